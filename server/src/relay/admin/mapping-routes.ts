// Admin: conversation mappings (which Kakao conversation is paired with which account).
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { isoOrNull, offsetPageQuery } from '../http/pages.js';
import { unpairConversation } from '../pairing/index.js';
import { conversationMappings } from '../schema.js';
import { idParams } from './account-routes.js';

export const listMappingsQuery = offsetPageQuery.extend({
  accountId: z.uuid().optional(),
  state: z.enum(['unpaired', 'pending', 'paired', 'blocked']).optional(),
  conversationKey: z.string().max(500).optional(),
});

export type MappingRow = typeof conversationMappings.$inferSelect;

/** Callback URLs are one-time capabilities: only whether one is usable is shown. */
export function presentMapping(row: MappingRow, now: number) {
  return {
    id: row.id,
    conversationKey: row.conversationKey,
    kakaoChannelId: row.kakaoChannelId,
    plusfriendUserKey: row.plusfriendUserKey,
    accountId: row.accountId,
    state: row.state,
    hasCallback:
      row.lastCallbackUrl !== null &&
      row.lastCallbackExpiresAt !== null &&
      row.lastCallbackExpiresAt.getTime() > now,
    firstSeenAt: row.firstSeenAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    pairedAt: isoOrNull(row.pairedAt),
  };
}

export function registerAdminMappingRoutes(scope: FastifyInstance, ctx: RelayContext): void {
  scope.get('/mappings', async (request) => {
    const query = listMappingsQuery.parse(request.query);
    const where: SQL[] = [];
    if (query.accountId) where.push(eq(conversationMappings.accountId, query.accountId));
    if (query.state) where.push(eq(conversationMappings.state, query.state));
    if (query.conversationKey) {
      where.push(eq(conversationMappings.conversationKey, query.conversationKey));
    }
    const [rows, totals] = await Promise.all([
      ctx.db
        .select()
        .from(conversationMappings)
        .where(and(...where))
        .orderBy(desc(conversationMappings.lastSeenAt), desc(conversationMappings.id))
        .limit(query.limit)
        .offset(query.offset),
      ctx.db
        .select({ n: count() })
        .from(conversationMappings)
        .where(and(...where)),
    ]);
    const now = ctx.now();
    return { items: rows.map((r) => presentMapping(r, now)), total: totals[0]?.n ?? 0 };
  });

  // Unpairs (the conversation's plugin session, if any, gets `pairing_expired`) and forgets the
  // mapping; the next message from that conversation starts a fresh, unpaired one.
  scope.delete('/mappings/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    const [mapping] = await ctx.db
      .select({ conversationKey: conversationMappings.conversationKey })
      .from(conversationMappings)
      .where(eq(conversationMappings.id, id));
    if (!mapping) throw new AppError('not_found', 'No such mapping');
    const outcome = await unpairConversation(ctx, mapping.conversationKey, { reason: 'unpaired' });
    await ctx.db.delete(conversationMappings).where(eq(conversationMappings.id, id));
    return { success: true, unpaired: outcome === 'unpaired' };
  });
}
