// Admin: accounts (list, create with a one-time relay token, read, change, delete, new token).
import { and, count, desc, eq, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { offsetPageQuery } from '../http/pages.js';
import { accounts } from '../schema.js';
import {
  createAccount,
  deleteAccount,
  presentAccount,
  regenerateRelayToken,
  revokeStreams,
} from './account-commands.js';

export const idParams = z.object({ id: z.uuid() });

export const listAccountsQuery = offsetPageQuery.extend({
  disabled: z.enum(['true', 'false']).optional(),
  openclawUserId: z.string().max(200).optional(),
});

const rateLimit = z.number().int().min(1).max(100_000);

export const createAccountBody = z
  .object({
    openclawUserId: z.string().trim().min(1).max(200).nullish(),
    mode: z.enum(['relay', 'direct']).optional(),
    rateLimitPerMinute: rateLimit.optional(),
  })
  .strict();

export const patchAccountBody = z
  .object({
    openclawUserId: z.string().trim().min(1).max(200).nullable().optional(),
    rateLimitPerMinute: rateLimit.optional(),
    disabled: z.boolean().optional(),
  })
  .strict();

const pairedCount = sql<number>`(select count(*)::int from relay.conversation_mappings m
  where m.account_id = ${accounts.id} and m.state = 'paired')`;

export function registerAdminAccountRoutes(scope: FastifyInstance, ctx: RelayContext): void {
  scope.get('/accounts', async (request) => {
    const query = listAccountsQuery.parse(request.query);
    const where: SQL[] = [];
    if (query.disabled === 'true') where.push(isNotNull(accounts.disabledAt));
    if (query.disabled === 'false') where.push(isNull(accounts.disabledAt));
    if (query.openclawUserId) where.push(eq(accounts.openclawUserId, query.openclawUserId));
    const [rows, totals] = await Promise.all([
      ctx.db
        .select({ account: accounts, pairedConversations: pairedCount })
        .from(accounts)
        .where(and(...where))
        .orderBy(desc(accounts.createdAt), desc(accounts.id))
        .limit(query.limit)
        .offset(query.offset),
      ctx.db
        .select({ n: count() })
        .from(accounts)
        .where(and(...where)),
    ]);
    return {
      items: rows.map((r) => ({
        ...presentAccount(r.account),
        pairedConversations: Number(r.pairedConversations),
      })),
      total: totals[0]?.n ?? 0,
    };
  });

  scope.post('/accounts', async (request, reply) => {
    const body = createAccountBody.parse(request.body ?? {});
    const { account, relayToken } = await createAccount(ctx.db, body, new Date(ctx.now()));
    ctx.logger.info({ accountId: account.id }, 'relay account created by the admin');
    return reply.status(201).send({ ...presentAccount(account), relayToken });
  });

  scope.get('/accounts/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    const [row] = await ctx.db
      .select({ account: accounts, pairedConversations: pairedCount })
      .from(accounts)
      .where(eq(accounts.id, id));
    if (!row) throw new AppError('not_found', 'No such account');
    return { ...presentAccount(row.account), pairedConversations: Number(row.pairedConversations) };
  });

  scope.patch('/accounts/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    const body = patchAccountBody.parse(request.body ?? {});
    const now = new Date(ctx.now());
    const updated = await ctx.pipeline.transaction(async (tx, outbox) => {
      const [current] = await tx
        .select({ disabledAt: accounts.disabledAt })
        .from(accounts)
        .where(eq(accounts.id, id))
        .for('update');
      if (!current) return undefined;
      // Disabled streams end at once, on whichever node holds them; new ones are refused.
      if (body.disabled === true && !current.disabledAt) {
        await revokeStreams(outbox, id, 'disabled', 'any', now);
      }
      const [row] = await tx
        .update(accounts)
        .set({
          updatedAt: now,
          ...(body.openclawUserId !== undefined ? { openclawUserId: body.openclawUserId } : {}),
          ...(body.rateLimitPerMinute !== undefined
            ? { rateLimitPerMinute: body.rateLimitPerMinute }
            : {}),
          // Disabling keeps the first time it happened; enabling clears it.
          ...(body.disabled === true ? { disabledAt: current.disabledAt ?? now } : {}),
          ...(body.disabled === false ? { disabledAt: null } : {}),
        })
        .where(eq(accounts.id, id))
        .returning();
      return row;
    });
    if (!updated) throw new AppError('not_found', 'No such account');
    return presentAccount(updated);
  });

  scope.delete('/accounts/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    if (!(await deleteAccount(ctx, id))) throw new AppError('not_found', 'No such account');
    ctx.logger.info({ accountId: id }, 'relay account deleted by the admin');
    return { success: true };
  });

  scope.post('/accounts/:id/regenerate-token', async (request) => {
    const { id } = idParams.parse(request.params);
    const issued = await regenerateRelayToken(ctx, id);
    if (!issued) throw new AppError('not_found', 'No such account');
    return { relayToken: issued.relayToken, createdAt: issued.issuedAt.toISOString() };
  });
}
