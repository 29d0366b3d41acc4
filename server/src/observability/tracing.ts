// Optional OpenTelemetry tracing, exported over OTLP/HTTP. Off unless an endpoint is configured;
// when off nothing is created and instrumented code skips its branch. No global provider or
// context manager is registered: the tracer is passed down like every other dependency. The SDK
// and exporter are loaded only when tracing is on.
import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

export type { Tracer } from '@opentelemetry/api';

export interface TracingOptions {
  /** OTLP/HTTP base URL, e.g. http://collector:4318; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  serviceName: string;
  instanceId: string;
  /** How often batched spans are sent; tests shorten it. */
  exportIntervalMs?: number;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** Sends spans still buffered, then stops exporting. */
  shutdown(): Promise<void>;
}

export async function createTracing(options: TracingOptions): Promise<Tracing> {
  const [
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { BatchSpanProcessor, NodeTracerProvider },
  ] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.instance.id': options.instanceId,
    }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url }), {
        scheduledDelayMillis: options.exportIntervalMs ?? 5000,
      }),
    ],
  });
  return {
    tracer: provider.getTracer('switchboard'),
    shutdown: () => provider.shutdown(),
  };
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's span from a W3C `traceparent` header, so our spans join its trace. */
function parentContext(header: string | string[] | undefined) {
  const match = typeof header === 'string' ? traceparentPattern.exec(header.trim()) : null;
  if (!match) return undefined;
  return trace.setSpanContext(otelContext.active(), {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** One server span per HTTP request, named by route pattern; ends when the response closes. */
export function registerHttpTracing(app: FastifyInstance, tracer: Tracer): void {
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const span: Span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'url.path': request.url.split('?')[0] ?? '',
        },
      },
      parentContext(request.headers.traceparent),
    );
    // The raw response closes for every kind of answer, including hijacked streams.
    reply.raw.once('close', () => {
      const status = reply.raw.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    done();
  });
}
