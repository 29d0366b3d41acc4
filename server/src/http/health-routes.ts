// Liveness (`/health`) and readiness (`/healthz`, `/readyz`) endpoints.
import { errorBody } from '@switchboard/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Readiness } from './readiness.js';

export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness): void {
  // Liveness: the process answers. Deliberately checks nothing else.
  app.get('/health', { logLevel: 'warn' }, (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send('OK'),
  );

  const ready = async (_request: unknown, reply: FastifyReply) => {
    const report = await readiness.report();
    if (report.ready) return reply.send({ status: 'ok', checks: report.checks });
    const failing = Object.entries(report.checks)
      .filter(([, r]) => !r.ok)
      .map(([name, r]) => `${name}: ${r.error ?? 'failing'}`);
    const body = report.draining
      ? errorBody('shutting_down')
      : errorBody('not_ready', `Not ready: ${failing.join('; ')}`);
    return reply
      .status(503)
      .header('retry-after', '2')
      .send({
        ...body,
        status: report.draining ? 'draining' : 'unavailable',
        checks: report.checks,
      });
  };
  app.get('/healthz', { logLevel: 'warn' }, ready);
  app.get('/readyz', { logLevel: 'warn' }, ready);
}
