// Observability: structured logging (metrics and tracing join here).
export { componentLogger, createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
