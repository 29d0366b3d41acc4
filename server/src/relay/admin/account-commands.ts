// Accounts as operators and owners manage them: creation with a relay token shown once, token
// regeneration (the old one stops working at once: only the new hash is stored), disabling and
// deletion (their conversations are unpaired and plugin sessions told).
import { and, eq, inArray } from 'drizzle-orm';
import type { OutboxWriter } from '../../pipeline/index.js';
import type { Database, Transaction } from '../../store/index.js';
import type { RelayContext } from '../context.js';
import { ACCESS_REVOKED_EVENT, type AccessRevokedPayload } from '../events.js';
import { isoOrNull } from '../http/pages.js';
import { endSessionsOf } from '../pairing/index.js';
import { accounts, conversationMappings } from '../schema.js';
import { hashToken, newToken } from '../tokens.js';
import { accountTopic } from '../topics.js';

export type AccountRow = typeof accounts.$inferSelect;

export interface NewAccount {
  readonly openclawUserId?: string | null | undefined;
  readonly mode?: 'relay' | 'direct' | undefined;
  readonly rateLimitPerMinute?: number | undefined;
}

/** Creates an account; the returned relay token exists nowhere else. */
export async function createAccount(
  db: Database | Transaction,
  input: NewAccount,
  now: Date,
): Promise<{ account: AccountRow; relayToken: string }> {
  const relayToken = newToken();
  const [account] = await db
    .insert(accounts)
    .values({
      relayTokenHash: hashToken(relayToken),
      openclawUserId: input.openclawUserId ?? null,
      mode: input.mode ?? 'relay',
      rateLimitPerMinute: input.rateLimitPerMinute ?? 60,
      tokenIssuedAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return { account: account!, relayToken };
}

/** Ends, on every node, the account's streams opened before `now` with `credential`. */
export async function revokeStreams(
  outbox: OutboxWriter,
  accountId: string,
  reason: AccessRevokedPayload['reason'],
  credential: AccessRevokedPayload['credential'],
  now: Date,
): Promise<void> {
  const payload: AccessRevokedPayload = { revokedAt: now.toISOString(), reason, credential };
  await outbox.append([{ type: ACCESS_REVOKED_EVENT, topic: accountTopic(accountId), payload }]);
}

/**
 * Replaces the account's relay token and ends the streams opened with the old one; undefined
 * when there is no such account.
 */
export async function regenerateRelayToken(
  ctx: RelayContext,
  accountId: string,
): Promise<{ relayToken: string; issuedAt: Date } | undefined> {
  const relayToken = newToken();
  const now = new Date(ctx.now());
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const updated = await tx
      .update(accounts)
      .set({ relayTokenHash: hashToken(relayToken), tokenIssuedAt: now, updatedAt: now })
      .where(eq(accounts.id, accountId))
      .returning({ id: accounts.id });
    if (updated.length !== 1) return undefined;
    await revokeStreams(outbox, accountId, 'token_rotated', 'relay_token', now);
    return { relayToken, issuedAt: now };
  });
}

/**
 * Deletes an account. Its conversations become unpaired first (the foreign key would only null
 * the account, leaving them "paired" to nothing) and its plugin sessions get `pairing_expired`.
 */
export async function deleteAccount(ctx: RelayContext, accountId: string): Promise<boolean> {
  const now = new Date(ctx.now());
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const [account] = await tx
      .select({ id: accounts.id })
      .from(accounts)
      .where(eq(accounts.id, accountId))
      .for('update');
    if (!account) return false;
    const unpaired = await tx
      .update(conversationMappings)
      .set({ state: 'unpaired', accountId: null })
      .where(
        and(
          eq(conversationMappings.accountId, accountId),
          inArray(conversationMappings.state, ['paired', 'blocked']),
        ),
      )
      .returning({ conversationKey: conversationMappings.conversationKey });
    for (const { conversationKey } of unpaired) {
      await endSessionsOf(tx, outbox, accountId, conversationKey, 'unpaired', now);
    }
    await revokeStreams(outbox, accountId, 'deleted', 'any', now);
    await tx.delete(accounts).where(eq(accounts.id, accountId));
    return true;
  });
}

export function presentAccount(row: AccountRow) {
  return {
    id: row.id,
    openclawUserId: row.openclawUserId,
    mode: row.mode,
    rateLimitPerMinute: row.rateLimitPerMinute,
    tokenIssuedAt: row.tokenIssuedAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    disabledAt: isoOrNull(row.disabledAt),
  };
}
