// Admin: portal users. The schema has no "active" flag: an operator blocks a person by
// disabling their account, resets a forgotten password here, or deletes the user (their
// sessions go with them; the account stays until deleted on its own).
import { and, count, desc, eq, ilike, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { isoOrNull, offsetPageQuery } from '../http/pages.js';
import { hashPassword } from '../../security/passwords.js';
import { accounts, portalSessions, portalUsers } from '../schema.js';
import { idParams } from './account-routes.js';

export const listUsersQuery = offsetPageQuery.extend({
  email: z.string().max(320).optional(),
  accountId: z.uuid().optional(),
});

export const patchUserBody = z
  .object({
    email: z.email().max(320).optional(),
    password: z.string().min(8).max(1024).optional(),
  })
  .strict();

const columns = {
  id: portalUsers.id,
  email: portalUsers.email,
  accountId: portalUsers.accountId,
  createdAt: portalUsers.createdAt,
  lastLoginAt: portalUsers.lastLoginAt,
  accountDisabledAt: accounts.disabledAt,
};

function presentUser(row: {
  id: string;
  email: string;
  accountId: string;
  createdAt: Date;
  lastLoginAt: Date | null;
  accountDisabledAt: Date | null;
}) {
  return {
    id: row.id,
    email: row.email,
    accountId: row.accountId,
    createdAt: row.createdAt.toISOString(),
    lastLoginAt: isoOrNull(row.lastLoginAt),
    accountDisabled: row.accountDisabledAt !== null,
  };
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export function registerAdminUserRoutes(scope: FastifyInstance, ctx: RelayContext): void {
  scope.get('/users', async (request) => {
    const query = listUsersQuery.parse(request.query);
    const where: SQL[] = [];
    if (query.email) where.push(ilike(portalUsers.email, `%${escapeLike(query.email)}%`));
    if (query.accountId) where.push(eq(portalUsers.accountId, query.accountId));
    const [rows, totals] = await Promise.all([
      ctx.db
        .select(columns)
        .from(portalUsers)
        .innerJoin(accounts, eq(accounts.id, portalUsers.accountId))
        .where(and(...where))
        .orderBy(desc(portalUsers.createdAt), desc(portalUsers.id))
        .limit(query.limit)
        .offset(query.offset),
      ctx.db
        .select({ n: count() })
        .from(portalUsers)
        .where(and(...where)),
    ]);
    return { items: rows.map(presentUser), total: totals[0]?.n ?? 0 };
  });

  async function userById(id: string) {
    const [row] = await ctx.db
      .select(columns)
      .from(portalUsers)
      .innerJoin(accounts, eq(accounts.id, portalUsers.accountId))
      .where(eq(portalUsers.id, id));
    if (!row) throw new AppError('not_found', 'No such user');
    return presentUser(row);
  }

  scope.get('/users/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    return userById(id);
  });

  scope.patch('/users/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    const body = patchUserBody.parse(request.body ?? {});
    const passwordHash = body.password ? await hashPassword(body.password) : undefined;
    const email = body.email?.toLowerCase();
    await ctx.db.transaction(async (tx) => {
      if (email) {
        const [taken] = await tx
          .select({ id: portalUsers.id })
          .from(portalUsers)
          .where(eq(portalUsers.email, email));
        if (taken && taken.id !== id) throw new AppError('email_taken');
      }
      if (!email && !passwordHash) {
        const [exists] = await tx
          .select({ id: portalUsers.id })
          .from(portalUsers)
          .where(eq(portalUsers.id, id));
        if (!exists) throw new AppError('not_found', 'No such user');
        return;
      }
      const updated = await tx
        .update(portalUsers)
        .set({
          ...(email ? { email } : {}),
          ...(passwordHash ? { passwordHash } : {}),
        })
        .where(eq(portalUsers.id, id))
        .returning({ id: portalUsers.id });
      if (updated.length === 0) throw new AppError('not_found', 'No such user');
      // A new password signs the user out everywhere: whoever knew the old one is out too.
      if (passwordHash) await tx.delete(portalSessions).where(eq(portalSessions.userId, id));
    });
    return userById(id);
  });

  scope.delete('/users/:id', async (request) => {
    const { id } = idParams.parse(request.params);
    const deleted = await ctx.db
      .delete(portalUsers)
      .where(eq(portalUsers.id, id))
      .returning({ id: portalUsers.id });
    if (deleted.length === 0) throw new AppError('not_found', 'No such user');
    return { success: true };
  });
}
