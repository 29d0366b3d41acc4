// HTTP metrics from Fastify hooks, labelled by route pattern (never the raw URL, which would give
// every id its own series), and the Prometheus scrape endpoint.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched requests share one label, so scanners cannot create series.
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    const status = String(reply.statusCode);
    metrics.httpRequests.inc({ method, route, status });
    metrics.httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 400) metrics.httpErrors.inc({ method, route, status });
    done();
  });

  app.get(METRICS_PATH, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
}
