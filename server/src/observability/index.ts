// Observability: structured logging, Prometheus metrics and optional OpenTelemetry tracing.
export { registerHttpMetrics, METRICS_PATH } from './http-metrics.js';
export { componentLogger, createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { createMetrics, Metrics, Registry } from './metrics.js';
export type { MetricsOptions, PushMetrics, Transport } from './metrics.js';
export { createTracing, registerHttpTracing } from './tracing.js';
export type { Tracer, Tracing, TracingOptions } from './tracing.js';
