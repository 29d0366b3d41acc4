// Kakao must hear back within 5 s whatever happens: a database error and a database that does not
// answer both end in a 200 with the error text, and a message whose answer went out as an error
// is not queued after the fact.
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../pipeline/schema.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import type { RelayContext } from '../context.js';
import { issuePairingCode } from '../pairing/index.js';
import { accounts, inboundMessages } from '../schema.js';
import { selectInboundRows } from '../messages/inbound-rows.js';
import {
  conversationKeyFor,
  kakaoCallbackUrl,
  newKakaoUserKey,
  postSkillPayload,
  replyText,
  skillPayload,
} from '../test-support/skill-payload.js';
import { hashToken, newToken } from '../tokens.js';
import { accountTopic } from '../topics.js';

const INTERNAL_ERROR = '❌ 오류가 발생했습니다. 다시 시도해주세요.';
const HELP_START = '📖 도움말';

describe(`kakao webhook failures (${target})`, () => {
  let t: TestServer;
  let ctx: RelayContext;
  beforeAll(async () => {
    t = await startTestServer({ env: { KAKAO_WEBHOOK_DEADLINE_MS: '2000' } });
    ctx = t.server.relay.context;
  });
  afterAll(() => t?.stop());

  async function say(userKey: string, utterance: string) {
    const answer = await postSkillPayload(
      t.url,
      skillPayload({ userKey, utterance, callbackUrl: kakaoCallbackUrl() }),
    );
    expect(answer.status).toBe(200);
    return { body: answer.body, text: replyText(answer.body) };
  }

  async function pairedUser() {
    const [account] = await ctx.db
      .insert(accounts)
      .values({ relayTokenHash: hashToken(newToken()) })
      .returning({ id: accounts.id });
    const userKey = newKakaoUserKey();
    const { code } = await issuePairingCode(ctx, account!.id);
    expect((await say(userKey, `/pair ${code}`)).text).toContain('✅');
    return { accountId: account!.id, userKey, key: conversationKeyFor({ userKey }) };
  }

  /** Runs `during` while `relay.<table>` is renamed away, so every statement on it fails. */
  async function withoutTable(table: string, during: () => Promise<void>) {
    await ctx.db.execute(sql.raw(`alter table relay.${table} rename to ${table}_away`));
    try {
      await during();
    } finally {
      await ctx.db.execute(sql.raw(`alter table relay.${table}_away rename to ${table}`));
    }
  }

  it('answers a database error with the error text, for messages and commands alike', async () => {
    const { userKey, key } = await pairedUser();
    await withoutTable('inbound_messages', async () => {
      expect((await say(userKey, '안녕하세요')).text).toBe(INTERNAL_ERROR);
    });
    await withoutTable('conversation_mappings', async () => {
      expect((await say(userKey, '/help')).text).toBe(INTERNAL_ERROR);
      expect((await say(newKakaoUserKey(), '안녕하세요')).text).toBe(INTERNAL_ERROR);
    });
    // And everything works again afterwards.
    expect((await say(userKey, '/help')).text).toContain(HELP_START);
    expect((await say(userKey, '다시 안녕')).body).toEqual({ version: '2.0', useCallback: true });
    const rows = await selectInboundRows(ctx.db).where(eq(inboundMessages.conversationKey, key));
    expect(rows.map((r) => (r.normalizedMessage as { text: string }).text)).toEqual(['다시 안녕']);
  });

  it('says unpairing failed when it does, and the pairing stays', async () => {
    const { userKey } = await pairedUser();
    await withoutTable('sessions', async () => {
      expect((await say(userKey, '/unpair')).text).toBe(
        '연결 해제에 실패했습니다. 다시 시도해주세요.',
      );
    });
    expect((await say(userKey, '/status')).text).toMatch(/^✅ 연결됨/);
  });

  it('answers at the deadline when the database hangs, and then queues nothing', async () => {
    const { accountId, userKey, key } = await pairedUser();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = ctx.db.transaction(async (tx) => {
      await tx.execute(sql`lock table relay.inbound_messages in access exclusive mode`);
      locked();
      await released;
    });
    await isLocked;
    try {
      expect((await say(userKey, '멈춘 메시지')).text).toBe(INTERNAL_ERROR);
    } finally {
      release();
      await holder;
    }
    // The next message's event waits for the abandoned one's transaction on the topic's seq.
    expect((await say(userKey, '다음 메시지')).body).toEqual({ version: '2.0', useCallback: true });
    const rows = await selectInboundRows(ctx.db)
      .where(eq(inboundMessages.conversationKey, key))
      .orderBy(asc(inboundMessages.eventSeq));
    expect(rows.map((r) => (r.normalizedMessage as { text: string }).text)).toEqual([
      '다음 메시지',
    ]);
    const events = await ctx.db
      .select({ seq: outbox.seq })
      .from(outbox)
      .where(eq(outbox.topic, accountTopic(accountId)));
    const messageEvents = events.filter((e) => e.seq === rows[0]!.eventSeq);
    expect(messageEvents).toHaveLength(1);
    // pairing_complete was seq 1; the abandoned message left no seq behind.
    expect(rows[0]!.eventSeq).toBe(2);
  });
});
