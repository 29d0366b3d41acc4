// The outbox admin API for operators: backlog and dead-letter counts, the dead letters page by
// page, and redriving them. Every route is behind the operator check (admin API key or password).
import type { FastifyInstance } from 'fastify';
import type { OperatorAuth } from '../../realtime/index.js';
import type { DeadLetter, OutboxStats } from '../outbox-queries.js';
import {
  DEAD_LETTER_PAGE_DEFAULT,
  deadLettersQuery,
  readDeadLetterPage,
  redriveRequest,
} from './outbox-admin-schemas.js';

export const OUTBOX_ADMIN_PATH = '/api/v1/admin/outbox';

/** What the routes need of the pipeline. */
export interface OutboxAdmin {
  stats(): Promise<OutboxStats>;
  deadLetters(afterId: number, limit: number): Promise<DeadLetter[]>;
  /** All dead letters when `ids` is undefined; returns how many were made due again. */
  redrive(ids?: readonly number[]): Promise<number>;
}

export interface OutboxAdminRoutesOptions {
  outbox: OutboxAdmin;
  authorizeOperator: OperatorAuth;
}

export function registerOutboxAdminRoutes(
  app: FastifyInstance,
  options: OutboxAdminRoutesOptions,
): void {
  const { outbox, authorizeOperator } = options;
  // onRequest: credentials are checked before a body is read.
  const operatorOnly = { onRequest: authorizeOperator };

  app.get(OUTBOX_ADMIN_PATH, operatorOnly, async () => {
    const { pending, oldestPendingSeconds, deadLetters } = await outbox.stats();
    return { pending, oldestPendingSeconds, deadLetters };
  });

  app.get(`${OUTBOX_ADMIN_PATH}/dead-letters`, operatorOnly, async (request) => {
    const query = deadLettersQuery.parse(request.query);
    return readDeadLetterPage(
      (afterId, limit) => outbox.deadLetters(afterId, limit),
      query.after ?? 0,
      query.limit ?? DEAD_LETTER_PAGE_DEFAULT,
    );
  });

  app.post(`${OUTBOX_ADMIN_PATH}/dead-letters/redrive`, operatorOnly, async (request) => {
    const body = redriveRequest.parse(request.body);
    const ids = body.ids ? [...new Set(body.ids)] : undefined;
    const redriven = await outbox.redrive(ids);
    // An operator action that re-runs consumers: worth a line in the log.
    request.log.info({ redriven, ids: ids ?? 'all' }, 'outbox dead letters redriven');
    return { redriven };
  });
}
