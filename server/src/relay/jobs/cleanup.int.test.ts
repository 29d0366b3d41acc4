// Relay clean-up: what each rule removes or expires, what it leaves, and the `pairing_expired`
// event an expired pending session's stream gets.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { createSession } from '../pairing/index.js';
import {
  accounts,
  adminSessions,
  inboundMessages,
  outboundMessages,
  pairingCodes,
  portalAccessCodes,
  sessions,
} from '../schema.js';
import {
  makeAccessCode,
  makeInbound,
  makeMapping,
  makeOutbound,
} from '../test-support/console-factories.js';
import { accessCodeHash, hashToken, newCode, newToken } from '../tokens.js';
import { runRelayCleanup } from './cleanup.js';

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

describe(`relay clean-up job (${target})`, () => {
  let t: TestServer;
  const db = () => t.server.store.db;
  const ctx = () => t.server.relay.context;

  beforeAll(async () => {
    t = await startTestServer({
      env: { QUEUE_TTL_SECONDS: '900', RELAY_MESSAGE_RETENTION_DAYS: '30' },
    });
  });
  afterAll(() => t?.stop());

  async function makeAccount(): Promise<string> {
    const [row] = await db()
      .insert(accounts)
      .values({ relayTokenHash: hashToken(newToken()) })
      .returning({ id: accounts.id });
    return row!.id;
  }

  it('expires a pending session past its deadline and appends pairing_expired on its topic', async () => {
    const due = await createSession(ctx());
    const fresh = await createSession(ctx());
    await db()
      .update(sessions)
      .set({ expiresAt: ago(1) })
      .where(eq(sessions.id, due.sessionId));
    await runRelayCleanup(ctx());
    const [dueRow] = await db().select().from(sessions).where(eq(sessions.id, due.sessionId));
    const [freshRow] = await db().select().from(sessions).where(eq(sessions.id, fresh.sessionId));
    expect(dueRow!.status).toBe('expired');
    expect(freshRow!.status).toBe('pending_pairing');
    const events = rowsOf<{ type: string; seq: string; payload: unknown }>(
      await db().execute(
        sql`select type, seq::text, payload from core.outbox where topic = ${`relay.session.${due.sessionId}`}`,
      ),
    );
    expect(events).toEqual([{ type: 'pairing_expired', seq: '1', payload: { reason: 'expired' } }]);
    // A second round finds nothing more to say.
    await runRelayCleanup(ctx());
    const again = rowsOf(
      await db().execute(
        sql`select 1 from core.outbox where topic = ${`relay.session.${due.sessionId}`}`,
      ),
    );
    expect(again).toHaveLength(1);
  });

  it('expires queued and delivered messages after QUEUE_TTL_SECONDS, deletes messages past retention', async () => {
    const accountId = await makeAccount();
    const { conversationKey } = await makeMapping(db(), { accountId });
    const stale = await makeInbound(db(), {
      accountId,
      conversationKey,
      status: 'queued',
      createdAt: ago(901),
    });
    const staleDelivered = await makeInbound(db(), {
      accountId,
      conversationKey,
      status: 'delivered',
      createdAt: ago(1000),
    });
    const ackedOld = await makeInbound(db(), {
      accountId,
      conversationKey,
      status: 'acked',
      createdAt: ago(1000),
    });
    const recent = await makeInbound(db(), {
      accountId,
      conversationKey,
      status: 'queued',
      createdAt: ago(60),
    });
    const ancient = await makeInbound(db(), {
      accountId,
      conversationKey,
      status: 'acked',
      createdAt: ago(31 * 86_400),
    });
    const ancientReply = await makeOutbound(db(), {
      accountId,
      conversationKey,
      createdAt: ago(31 * 86_400),
    });
    const recentReply = await makeOutbound(db(), {
      accountId,
      conversationKey,
      createdAt: ago(29 * 86_400),
    });

    await runRelayCleanup(ctx());

    const statuses = new Map(
      (
        await db()
          .select({
            id: inboundMessages.id,
            status: inboundMessages.status,
            expiredAt: inboundMessages.expiredAt,
          })
          .from(inboundMessages)
          .where(eq(inboundMessages.accountId, accountId))
      ).map((r) => [r.id, r]),
    );
    expect(statuses.get(stale)?.status).toBe('expired');
    expect(statuses.get(stale)?.expiredAt).toBeInstanceOf(Date);
    expect(statuses.get(staleDelivered)?.status).toBe('expired');
    expect(statuses.get(ackedOld)?.status).toBe('acked');
    expect(statuses.get(recent)?.status).toBe('queued');
    expect(statuses.has(ancient)).toBe(false);
    const replies = (
      await db()
        .select({ id: outboundMessages.id })
        .from(outboundMessages)
        .where(eq(outboundMessages.accountId, accountId))
    ).map((r) => r.id);
    expect(replies).toEqual([recentReply]);
    expect(replies).not.toContain(ancientReply);
  });

  it('deletes day-old used or expired pairing codes, ended sessions, expired console sessions and access codes', async () => {
    const accountId = await makeAccount();
    const codes = {
      usedOld: newCode(),
      expiredOld: newCode(),
      expiredRecent: newCode(),
      active: newCode(),
    };
    await db()
      .insert(pairingCodes)
      .values([
        { code: codes.usedOld, accountId, expiresAt: ago(-600), usedAt: ago(90_000) },
        { code: codes.expiredOld, accountId, expiresAt: ago(90_000) },
        { code: codes.expiredRecent, accountId, expiresAt: ago(60) },
        { code: codes.active, accountId, expiresAt: ago(-600) },
      ]);
    const ended = await createSession(ctx());
    const endedRecently = await createSession(ctx());
    await db()
      .update(sessions)
      .set({ status: 'disconnected', updatedAt: ago(90_000) })
      .where(eq(sessions.id, ended.sessionId));
    await db()
      .update(sessions)
      .set({ status: 'expired', updatedAt: ago(60) })
      .where(eq(sessions.id, endedRecently.sessionId));
    const [expiredAdmin] = await db()
      .insert(adminSessions)
      .values({ tokenHash: newToken(), expiresAt: ago(1) })
      .returning();
    const [liveAdmin] = await db()
      .insert(adminSessions)
      .values({ tokenHash: newToken(), expiresAt: ago(-3600) })
      .returning();
    await db()
      .execute(sql`insert into relay.portal_sessions (token_hash, conversation_key, expires_at)
      values (${`expired-${newToken()}`}, 'bot:x', ${ago(1).toISOString()}::timestamptz)`);
    const oldAccessCode = newCode();
    const liveAccessCode = newCode();
    const secret = t.config.PORTAL_SESSION_SECRET;
    await makeAccessCode(db(), {
      conversationKey: 'bot:x',
      code: oldAccessCode,
      secret,
      expiresAt: ago(1),
    });
    await makeAccessCode(db(), { conversationKey: 'bot:x', code: liveAccessCode, secret });

    await runRelayCleanup(ctx());

    const left = (
      await db()
        .select({ code: pairingCodes.code })
        .from(pairingCodes)
        .where(eq(pairingCodes.accountId, accountId))
    )
      .map((r) => r.code)
      .sort();
    expect(left).toEqual([codes.expiredRecent, codes.active].sort());
    expect(await db().select().from(sessions).where(eq(sessions.id, ended.sessionId))).toHaveLength(
      0,
    );
    expect(
      await db().select().from(sessions).where(eq(sessions.id, endedRecently.sessionId)),
    ).toHaveLength(1);
    expect(
      await db().select().from(adminSessions).where(eq(adminSessions.id, expiredAdmin!.id)),
    ).toHaveLength(0);
    expect(
      await db().select().from(adminSessions).where(eq(adminSessions.id, liveAdmin!.id)),
    ).toHaveLength(1);
    const expiredPortal = rowsOf(
      await db().execute(sql`select 1 from relay.portal_sessions where expires_at <= now()`),
    );
    expect(expiredPortal).toHaveLength(0);
    const accessCodes = (
      await db().select({ codeHash: portalAccessCodes.codeHash }).from(portalAccessCodes)
    ).map((r) => r.codeHash);
    expect(accessCodes).toContain(accessCodeHash(secret, liveAccessCode));
    expect(accessCodes).not.toContain(accessCodeHash(secret, oldAccessCode));
  });
});
