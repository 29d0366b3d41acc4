// Admin: plugin-created sessions. Disconnecting one ends it for good: its token stops working,
// its stream gets `pairing_expired {reason: "disconnected"}`, and a paired session's
// conversation is unpaired (the session's account exists for that one conversation only).
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { PAIRING_EXPIRED_EVENT } from '../events.js';
import { isoOrNull, offsetPageQuery } from '../http/pages.js';
import { endSessionsOf } from '../pairing/index.js';
import { conversationMappings, sessions } from '../schema.js';
import { sessionTopic } from '../topics.js';
import { idParams } from './account-routes.js';

export const listPluginSessionsQuery = offsetPageQuery.extend({
  status: z.enum(['pending_pairing', 'paired', 'expired', 'disconnected']).optional(),
  accountId: z.uuid().optional(),
});

type SessionRow = typeof sessions.$inferSelect;

function presentSession(row: SessionRow) {
  return {
    id: row.id,
    status: row.status,
    // The code is only worth showing while someone could still type it.
    pairingCode: row.status === 'pending_pairing' ? row.pairingCode : null,
    accountId: row.accountId,
    pairedConversationKey: row.pairedConversationKey,
    metadata: row.metadata,
    expiresAt: row.status === 'paired' ? null : row.expiresAt.toISOString(),
    pairedAt: isoOrNull(row.pairedAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Ends a session; false when there is none. Already ended sessions are left as they are. */
export async function disconnectSession(ctx: RelayContext, sessionId: string): Promise<boolean> {
  const now = new Date(ctx.now());
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const [session] = await tx
      .select()
      .from(sessions)
      .where(eq(sessions.id, sessionId))
      .for('update');
    if (!session) return false;
    if (session.status === 'paired' && session.accountId && session.pairedConversationKey) {
      await tx
        .update(conversationMappings)
        .set({ state: 'unpaired', accountId: null })
        .where(
          and(
            eq(conversationMappings.conversationKey, session.pairedConversationKey),
            eq(conversationMappings.accountId, session.accountId),
          ),
        );
      await endSessionsOf(
        tx,
        outbox,
        session.accountId,
        session.pairedConversationKey,
        'disconnected',
        now,
      );
    } else if (session.status === 'pending_pairing') {
      await tx
        .update(sessions)
        .set({ status: 'disconnected', updatedAt: now })
        .where(eq(sessions.id, sessionId));
      await outbox.append([
        {
          type: PAIRING_EXPIRED_EVENT,
          topic: sessionTopic(sessionId),
          payload: { reason: 'disconnected' },
        },
      ]);
    }
    return true;
  });
}

export function registerAdminSessionRoutes(scope: FastifyInstance, ctx: RelayContext): void {
  scope.get('/sessions', async (request) => {
    const query = listPluginSessionsQuery.parse(request.query);
    const where: SQL[] = [];
    if (query.status) where.push(eq(sessions.status, query.status));
    if (query.accountId) where.push(eq(sessions.accountId, query.accountId));
    const [rows, totals] = await Promise.all([
      ctx.db
        .select()
        .from(sessions)
        .where(and(...where))
        .orderBy(desc(sessions.createdAt), desc(sessions.id))
        .limit(query.limit)
        .offset(query.offset),
      ctx.db
        .select({ n: count() })
        .from(sessions)
        .where(and(...where)),
    ]);
    return { items: rows.map(presentSession), total: totals[0]?.n ?? 0 };
  });

  scope.post('/sessions/:id/disconnect', async (request) => {
    const { id } = idParams.parse(request.params);
    if (!(await disconnectSession(ctx, id))) throw new AppError('not_found', 'No such session');
    const [row] = await ctx.db.select().from(sessions).where(eq(sessions.id, id));
    // Deleted by someone else in between: the answer keeps one shape.
    if (!row) throw new AppError('not_found', 'No such session');
    return presentSession(row);
  });

  scope.delete('/sessions/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    if (!(await disconnectSession(ctx, id))) throw new AppError('not_found', 'No such session');
    await ctx.db.delete(sessions).where(eq(sessions.id, id));
    return { success: true };
  });
}
