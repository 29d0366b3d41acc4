// Pairing a Kakao conversation with an agent, in both models the plugin and operators use:
//  - owner-issued codes: an account (token holder, portal user) issues `XXXX-XXXX` codes, at most
//    five active, and any conversation that sends `/pair CODE` joins that account;
//  - plugin-created sessions: the plugin creates a session (token + code) and waits on its
//    stream; the first conversation that sends the code gets a new account of its own.
// Redeeming a code is one transaction with a conditional update, so a code pairs exactly one
// conversation however many race for it; the pairing events commit with it.
import { and, count, eq, gt, isNull, sql } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import type { OutboxWriter } from '../../pipeline/index.js';
import { rowsOf, type Transaction } from '../../store/index.js';
import type { RelayContext } from '../context.js';
import {
  PAIRING_COMPLETE_EVENT,
  PAIRING_EXPIRED_EVENT,
  type PairingCompletePayload,
} from '../events.js';
import { accounts, conversationMappings, pairingCodes, sessions } from '../schema.js';
import { hashToken, newCode, newToken } from '../tokens.js';
import { accountTopic, sessionTopic } from '../topics.js';

export const MAX_ACTIVE_CODES = 5;
export const DEFAULT_CODE_SECONDS = 600;
export const MAX_CODE_SECONDS = 1800;
/** Far enough in the future to never expire: a paired session lives until unpaired. */
const PAIRED_SESSION_EXPIRY = new Date('9999-12-31T00:00:00Z');
const CODE_ATTEMPTS = 10;

export interface IssuedCode {
  readonly code: string;
  readonly expiresAt: Date;
}

/** Clamps a requested lifetime: absent or ≤ 0 → 600 s, over 1800 s → 1800 s. */
export function codeLifetimeSeconds(requested: number | undefined): number {
  if (requested === undefined || !Number.isFinite(requested) || requested <= 0) {
    return DEFAULT_CODE_SECONDS;
  }
  return Math.min(Math.floor(requested), MAX_CODE_SECONDS);
}

/** Issues a pairing code for an account; 429 `too_many_pairing_codes` at five active ones. */
export async function issuePairingCode(
  ctx: RelayContext,
  accountId: string,
  options: { expirySeconds?: number; metadata?: Record<string, unknown> } = {},
): Promise<IssuedCode> {
  const expiresAt = new Date(ctx.now() + codeLifetimeSeconds(options.expirySeconds) * 1000);
  return ctx.db.transaction(async (tx) => {
    // Serializes issuers of one account so two concurrent calls cannot both pass the count.
    await tx
      .select({ id: accounts.id })
      .from(accounts)
      .where(eq(accounts.id, accountId))
      .for('update');
    const [active] = await tx
      .select({ n: count() })
      .from(pairingCodes)
      .where(
        and(
          eq(pairingCodes.accountId, accountId),
          isNull(pairingCodes.usedAt),
          gt(pairingCodes.expiresAt, new Date(ctx.now())),
        ),
      );
    if ((active?.n ?? 0) >= MAX_ACTIVE_CODES) throw new AppError('too_many_pairing_codes');
    for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
      const code = newCode();
      const inserted = await tx
        .insert(pairingCodes)
        .values({ code, accountId, expiresAt, metadata: options.metadata ?? null })
        .onConflictDoNothing()
        .returning({ code: pairingCodes.code });
      // A session may hold the same code; codes must be unique across both kinds.
      if (inserted.length === 1 && !(await sessionCodeExists(tx, code))) {
        return { code, expiresAt };
      }
      if (inserted.length === 1) await tx.delete(pairingCodes).where(eq(pairingCodes.code, code));
    }
    throw new Error('could not find an unused pairing code');
  });
}

async function sessionCodeExists(tx: Transaction, code: string): Promise<boolean> {
  const rows = await tx
    .select({ id: sessions.id })
    .from(sessions)
    .where(eq(sessions.pairingCode, code))
    .limit(1);
  return rows.length > 0;
}

export interface CreatedSession {
  readonly sessionId: string;
  readonly sessionToken: string;
  readonly pairingCode: string;
  readonly expiresIn: number;
}

/** A plugin-created session: a token to stream with and a code for the Kakao user to send. */
export async function createSession(
  ctx: RelayContext,
  metadata?: Record<string, unknown>,
): Promise<CreatedSession> {
  const ttl = ctx.config.RELAY_SESSION_TTL_SECONDS;
  const sessionToken = newToken();
  for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
    const pairingCode = newCode();
    const taken = await ctx.db
      .select({ code: pairingCodes.code })
      .from(pairingCodes)
      .where(eq(pairingCodes.code, pairingCode));
    if (taken.length > 0) continue;
    const [row] = await ctx.db
      .insert(sessions)
      .values({
        sessionTokenHash: hashToken(sessionToken),
        pairingCode,
        metadata: metadata ?? null,
        expiresAt: new Date(ctx.now() + ttl * 1000),
      })
      .onConflictDoNothing()
      .returning({ id: sessions.id });
    if (row) return { sessionId: row.id, sessionToken, pairingCode, expiresIn: ttl };
  }
  throw new Error('could not find an unused pairing code');
}

/** Who is pairing: one Kakao user of one bot. */
export interface ConversationRef {
  readonly conversationKey: string;
  readonly kakaoChannelId: string;
  readonly plusfriendUserKey: string;
}

export type PairOutcome =
  | { readonly kind: 'paired'; readonly accountId: string; readonly pairedAt: Date }
  | { readonly kind: 'already_paired' }
  | { readonly kind: 'blocked' }
  | { readonly kind: 'invalid_code' }
  | { readonly kind: 'expired_code' }
  | { readonly kind: 'used_code' };

/**
 * Redeems `code` (already normalized) for a conversation: a pending session's code first, then
 * an owner-issued code. Blocked conversations cannot pair; paired ones must unpair first.
 */
export async function pairConversation(
  ctx: RelayContext,
  conversation: ConversationRef,
  code: string,
): Promise<PairOutcome> {
  const now = new Date(ctx.now());
  return ctx.pipeline.transaction(async (tx, outbox): Promise<PairOutcome> => {
    const mapping = await lockMapping(tx, conversation, now);
    if (mapping.state === 'blocked') return { kind: 'blocked' };
    if (mapping.state === 'paired' && mapping.accountId) return { kind: 'already_paired' };

    const [session] = await tx
      .select()
      .from(sessions)
      .where(eq(sessions.pairingCode, code))
      .for('update');
    if (session) {
      if (session.status !== 'pending_pairing') return { kind: 'used_code' };
      if (session.expiresAt <= now) return { kind: 'expired_code' };
      const [account] = await tx
        .insert(accounts)
        .values({ relayTokenHash: hashToken(newToken()), mode: 'relay' })
        .returning({ id: accounts.id });
      const accountId = account!.id;
      await tx
        .update(sessions)
        .set({
          status: 'paired',
          accountId,
          pairedConversationKey: conversation.conversationKey,
          pairedAt: now,
          expiresAt: PAIRED_SESSION_EXPIRY,
          updatedAt: now,
        })
        .where(eq(sessions.id, session.id));
      await markPaired(tx, conversation.conversationKey, accountId, now);
      await appendPairingComplete(outbox, conversation, accountId, now, [
        sessionTopic(session.id),
        accountTopic(accountId),
      ]);
      return { kind: 'paired', accountId, pairedAt: now };
    }

    // Locked alone: `FOR UPDATE OF` a schema-qualified table is refused by PostgreSQL, and the
    // account row needs no lock.
    const [owned] = await tx
      .select({
        code: pairingCodes.code,
        accountId: pairingCodes.accountId,
        usedAt: pairingCodes.usedAt,
        expiresAt: pairingCodes.expiresAt,
      })
      .from(pairingCodes)
      .where(eq(pairingCodes.code, code))
      .for('update');
    if (!owned) return { kind: 'invalid_code' };
    const [owner] = await tx
      .select({ disabledAt: accounts.disabledAt })
      .from(accounts)
      .where(eq(accounts.id, owned.accountId));
    if (!owner || owner.disabledAt) return { kind: 'invalid_code' };
    if (owned.usedAt) return { kind: 'used_code' };
    if (owned.expiresAt <= now) return { kind: 'expired_code' };
    await tx
      .update(pairingCodes)
      .set({ usedAt: now, usedBy: conversation.conversationKey })
      .where(eq(pairingCodes.code, code));
    await markPaired(tx, conversation.conversationKey, owned.accountId, now);
    await appendPairingComplete(outbox, conversation, owned.accountId, now, [
      accountTopic(owned.accountId),
    ]);
    return { kind: 'paired', accountId: owned.accountId, pairedAt: now };
  });
}

/** The conversation's mapping, created if new, locked for the rest of the transaction. */
async function lockMapping(tx: Transaction, conversation: ConversationRef, now: Date) {
  await tx
    .insert(conversationMappings)
    .values({
      conversationKey: conversation.conversationKey,
      kakaoChannelId: conversation.kakaoChannelId,
      plusfriendUserKey: conversation.plusfriendUserKey,
      firstSeenAt: now,
      lastSeenAt: now,
    })
    .onConflictDoNothing();
  const [mapping] = await tx
    .select()
    .from(conversationMappings)
    .where(eq(conversationMappings.conversationKey, conversation.conversationKey))
    .for('update');
  return mapping!;
}

async function markPaired(tx: Transaction, conversationKey: string, accountId: string, now: Date) {
  await tx
    .update(conversationMappings)
    .set({ state: 'paired', accountId, pairedAt: now })
    .where(eq(conversationMappings.conversationKey, conversationKey));
}

async function appendPairingComplete(
  outbox: OutboxWriter,
  conversation: ConversationRef,
  accountId: string,
  pairedAt: Date,
  topics: readonly string[],
): Promise<void> {
  const payload: PairingCompletePayload = {
    kakaoUserId: conversation.plusfriendUserKey,
    conversationKey: conversation.conversationKey,
    accountId,
    pairedAt: pairedAt.toISOString(),
  };
  await outbox.append(topics.map((topic) => ({ type: PAIRING_COMPLETE_EVENT, topic, payload })));
}

export type UnpairOutcome = 'unpaired' | 'not_paired';

/**
 * Unpairs a conversation. With `accountId`, only if it is paired to that account (tenant
 * isolation: another account's conversation is reported as not paired). A session whose one
 * conversation this was ends: its stream gets `pairing_expired` and its token stops working.
 */
export async function unpairConversation(
  ctx: RelayContext,
  conversationKey: string,
  options: {
    accountId?: string;
    reason?: string;
    /** False for the chat user's own /unpair: a block is the owner's to lift. */
    liftsBlock?: boolean;
  } = {},
): Promise<UnpairOutcome> {
  const now = new Date(ctx.now());
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const [mapping] = await tx
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, conversationKey))
      .for('update');
    if (!mapping?.accountId || (mapping.state !== 'paired' && mapping.state !== 'blocked')) {
      return 'not_paired';
    }
    if (options.accountId !== undefined && mapping.accountId !== options.accountId) {
      return 'not_paired';
    }
    if (mapping.state === 'blocked' && options.liftsBlock === false) return 'not_paired';
    await tx
      .update(conversationMappings)
      .set({ state: 'unpaired', accountId: null })
      .where(eq(conversationMappings.id, mapping.id));
    await endSessionsOf(
      tx,
      outbox,
      mapping.accountId,
      conversationKey,
      options.reason ?? 'unpaired',
      now,
    );
    return 'unpaired';
  });
}

/**
 * Ends the plugin sessions paired with `conversationKey` on `accountId`: they become
 * `disconnected` and their streams get `pairing_expired` with `reason`.
 */
export async function endSessionsOf(
  tx: Transaction,
  outbox: OutboxWriter,
  accountId: string,
  conversationKey: string,
  reason: string,
  now: Date,
): Promise<void> {
  const ended = await tx
    .update(sessions)
    .set({ status: 'disconnected', updatedAt: now })
    .where(
      and(
        eq(sessions.accountId, accountId),
        eq(sessions.pairedConversationKey, conversationKey),
        eq(sessions.status, 'paired'),
      ),
    )
    .returning({ id: sessions.id });
  if (ended.length === 0) return;
  await outbox.append([
    { type: PAIRING_EXPIRED_EVENT, topic: accountTopic(accountId), payload: { reason } },
    ...ended.map((s) => ({
      type: PAIRING_EXPIRED_EVENT,
      topic: sessionTopic(s.id),
      payload: { reason },
    })),
  ]);
}

/**
 * Expires pending sessions past their deadline (the clean-up job calls this): each becomes
 * `expired` and its waiting stream gets `pairing_expired {reason: "expired"}`.
 */
export async function expirePendingSessions(
  tx: Transaction,
  outbox: OutboxWriter,
  now: Date,
  limit: number,
): Promise<number> {
  const expired = await tx.execute(sql`
    update relay.sessions set status = 'expired', updated_at = ${now}
    where id in (
      select id from relay.sessions
      where status = 'pending_pairing' and expires_at <= ${now}
      order by expires_at limit ${limit}
      for update skip locked
    )
    returning id`);
  const ids = rowsOf<{ id: string }>(expired).map((r) => r.id);
  if (ids.length > 0) {
    await outbox.append(
      ids.map((id) => ({
        type: PAIRING_EXPIRED_EVENT,
        topic: sessionTopic(id),
        payload: { reason: 'expired' },
      })),
    );
  }
  return ids.length;
}
