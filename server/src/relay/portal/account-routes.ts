// Portal routes of an owner's account: stats, pairing codes, connections (unpair, block), the
// relay token and the account's messages. Every query is scoped to the session's account; a
// conversation of another account is "not found".
import { and, count, desc, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { presentMapping } from '../admin/mapping-routes.js';
import { regenerateRelayToken } from '../admin/account-commands.js';
import {
  pageInbound,
  pageOutbound,
  presentInboundForPortal,
  presentOutboundForPortal,
} from '../http/message-pages.js';
import { cursorPageQuery, offsetPageQuery } from '../http/pages.js';
import { issuePairingCode, unpairConversation } from '../pairing/index.js';
import { accounts, conversationMappings } from '../schema.js';
import { userSessionOf } from './portal-auth.js';
import { accountStats } from './stats.js';

export const generatePairingCodeBody = z
  .object({ expirySeconds: z.number().int().optional() })
  .strict();
const keyParams = z.object({ conversationKey: z.string().min(1).max(500) });
export const messagesQuery = cursorPageQuery.extend({
  type: z.enum(['inbound', 'outbound']).default('inbound'),
});

const CONNECTED_STATES = ['paired', 'blocked'] as const;

export function registerPortalAccountRoutes(api: FastifyInstance, ctx: RelayContext): void {
  api.get('/stats', (request) => accountStats(ctx.db, userSessionOf(request).accountId, ctx.now()));

  api.post('/pairing/generate', async (request) => {
    const { accountId } = userSessionOf(request);
    const body = generatePairingCodeBody.parse(request.body ?? {});
    const [account] = await ctx.db
      .select({ disabledAt: accounts.disabledAt })
      .from(accounts)
      .where(eq(accounts.id, accountId));
    if (!account) throw new AppError('not_found', 'No such account');
    if (account.disabledAt) throw new AppError('account_disabled');
    const issued = await issuePairingCode(ctx, accountId, { expirySeconds: body.expirySeconds });
    return { code: issued.code, expiresAt: issued.expiresAt.toISOString() };
  });

  api.get('/connections', async (request) => {
    const { accountId } = userSessionOf(request);
    const page = offsetPageQuery.parse(request.query);
    const mine = and(
      eq(conversationMappings.accountId, accountId),
      inArray(conversationMappings.state, [...CONNECTED_STATES]),
    );
    const [rows, totals] = await Promise.all([
      ctx.db
        .select()
        .from(conversationMappings)
        .where(mine)
        .orderBy(desc(conversationMappings.lastSeenAt), desc(conversationMappings.id))
        .limit(page.limit)
        .offset(page.offset),
      ctx.db.select({ n: count() }).from(conversationMappings).where(mine),
    ]);
    const now = ctx.now();
    return {
      connections: rows.map((row) => {
        const { accountId: _omitted, ...connection } = presentMapping(row, now);
        return connection;
      }),
      total: totals[0]?.n ?? 0,
    };
  });

  api.post('/connections/:conversationKey/unpair', async (request) => {
    const { accountId } = userSessionOf(request);
    const { conversationKey } = keyParams.parse(request.params);
    const outcome = await unpairConversation(ctx, conversationKey, { accountId });
    if (outcome !== 'unpaired') throw new AppError('not_found', 'No such connection');
    return { success: true };
  });

  // Blocking stops routing the conversation's messages to the agent; the plugin is not told
  // (its session stays), and unblocking resumes.
  api.patch('/connections/:conversationKey/block', async (request) => {
    const { accountId } = userSessionOf(request);
    const { conversationKey } = keyParams.parse(request.params);
    const state = await ctx.db.transaction(async (tx) => {
      const [mapping] = await tx
        .select({ id: conversationMappings.id, state: conversationMappings.state })
        .from(conversationMappings)
        .where(
          and(
            eq(conversationMappings.conversationKey, conversationKey),
            eq(conversationMappings.accountId, accountId),
            inArray(conversationMappings.state, [...CONNECTED_STATES]),
          ),
        )
        .for('update');
      if (!mapping) return undefined;
      const next = mapping.state === 'paired' ? ('blocked' as const) : ('paired' as const);
      await tx
        .update(conversationMappings)
        .set({ state: next })
        .where(eq(conversationMappings.id, mapping.id));
      return next;
    });
    if (!state) throw new AppError('not_found', 'No such connection');
    return { success: true, state };
  });

  api.get('/token', async (request) => {
    const { accountId } = userSessionOf(request);
    const [account] = await ctx.db
      .select({ tokenIssuedAt: accounts.tokenIssuedAt })
      .from(accounts)
      .where(eq(accounts.id, accountId));
    if (!account) throw new AppError('not_found', 'No such account');
    return {
      hasToken: true,
      message: 'The relay token is shown only when it is made; regenerate it to see a new one.',
      createdAt: account.tokenIssuedAt.toISOString(),
    };
  });

  api.post('/token/regenerate', async (request) => {
    const { accountId } = userSessionOf(request);
    const issued = await regenerateRelayToken(ctx, accountId);
    if (!issued) throw new AppError('not_found', 'No such account');
    return { token: issued.relayToken, createdAt: issued.issuedAt.toISOString() };
  });

  api.get('/messages', async (request) => {
    const { accountId } = userSessionOf(request);
    const query = messagesQuery.parse(request.query);
    const page =
      query.type === 'inbound'
        ? await pageInbound(ctx.db, { accountId }, query, presentInboundForPortal)
        : await pageOutbound(ctx.db, { accountId }, query, presentOutboundForPortal);
    return { messages: page.items, nextCursor: page.nextCursor, hasMore: page.nextCursor !== null };
  });
}
