// Pairing from the chat: `/pair` with an owner-issued code and with a plugin session's code, the
// events the agent hears, the refusals (malformed, invalid, expired, used, already paired,
// blocked), the attempt limit, and `/unpair`.
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../pipeline/schema.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import type { RelayContext } from '../context.js';
import { createSession, issuePairingCode, unpairConversation } from '../pairing/index.js';
import { accounts, conversationMappings, pairingCodes, sessions } from '../schema.js';
import {
  conversationKeyFor,
  kakaoCallbackUrl,
  newKakaoUserKey,
  postSkillPayload,
  replyText,
  skillPayload,
} from '../test-support/skill-payload.js';
import { hashToken, newToken } from '../tokens.js';
import { accountTopic, sessionTopic } from '../topics.js';

const PAIRED = '✅ OpenClaw에 연결되었습니다!\n\n이제 자유롭게 대화를 시작하세요.';
const EMPTY_CODE = '페어링 코드를 입력해주세요.\n\n예: /pair ABCD-1234';
const ALREADY_PAIRED =
  '이미 OpenClaw에 연결되어 있습니다.\n\n다른 봇에 연결하려면 먼저 /unpair 로 연결을 해제하세요.';
const INVALID = '❌ 유효하지 않은 코드입니다.\n\n코드를 다시 확인해주세요.';
const EXPIRED = '⏰ 코드가 만료되었습니다.\n\n관리자에게 새 코드를 요청하세요.';
const USED = '❌ 이미 사용된 코드입니다.\n\n관리자에게 새 코드를 요청하세요.';
const BLOCKED =
  '🚫 이 대화는 차단되어 있어 OpenClaw에 연결할 수 없습니다.\n\n봇 관리자에게 문의하세요.';
const UNPAIR_NONE = '연결된 OpenClaw가 없습니다.';
const UNPAIRED = '연결이 해제되었습니다.\n\n다시 연결하려면 /pair <코드>를 사용하세요.';
const NOT_CONNECTED =
  'OpenClaw에 연결되지 않았습니다.\n\n연결하려면 페어링 코드를 받은 후:\n/pair <코드>\n\n를 입력해주세요.\n\n도움말: /help';

describe(`kakao pairing commands (${target})`, () => {
  let t: TestServer;
  let ctx: RelayContext;
  beforeAll(async () => {
    t = await startTestServer();
    ctx = t.server.relay.context;
  });
  afterAll(() => t?.stop());

  async function say(userKey: string, utterance: string) {
    const answer = await postSkillPayload(
      t.url,
      skillPayload({ utterance, userKey, callbackUrl: kakaoCallbackUrl() }),
    );
    expect(answer.status).toBe(200);
    return replyText(answer.body);
  }

  async function newAccount(): Promise<string> {
    const [row] = await ctx.db
      .insert(accounts)
      .values({ relayTokenHash: hashToken(newToken()) })
      .returning({ id: accounts.id });
    return row!.id;
  }

  const mappingOf = async (userKey: string) => {
    const [row] = await ctx.db
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, conversationKeyFor({ userKey })));
    return row;
  };

  const outboxRows = (type: string, topics: string[]) =>
    ctx.db
      .select({ topic: outbox.topic, payload: outbox.payload })
      .from(outbox)
      .where(and(eq(outbox.type, type), inArray(outbox.topic, topics)));

  it('pairs with an owner-issued code typed in any case and spacing, once', async () => {
    const accountId = await newAccount();
    const { code } = await issuePairingCode(ctx, accountId);
    const user = newKakaoUserKey();
    const typed = ` ${code.toLowerCase().replace('-', ' ')} `;
    expect(await say(user, `/PAIR${typed}`)).toBe(PAIRED);

    const mapping = await mappingOf(user);
    expect(mapping).toMatchObject({ state: 'paired', accountId, plusfriendUserKey: user });
    expect(mapping!.pairedAt).toBeInstanceOf(Date);
    const [codeRow] = await ctx.db.select().from(pairingCodes).where(eq(pairingCodes.code, code));
    expect(codeRow!.usedBy).toBe(conversationKeyFor({ userKey: user }));

    const events = await outboxRows('pairing_complete', [accountTopic(accountId)]);
    expect(events).toEqual([
      {
        topic: accountTopic(accountId),
        payload: expect.objectContaining({
          kakaoUserId: user,
          conversationKey: conversationKeyFor({ userKey: user }),
          accountId,
          pairedAt: expect.any(String),
        }),
      },
    ]);

    expect(await say(user, `/pair ${code}`)).toBe(ALREADY_PAIRED);
    const other = newKakaoUserKey();
    expect(await say(other, `/pair ${code}`)).toBe(USED);
    expect((await mappingOf(other))!.state).toBe('unpaired');
  });

  it("pairs with a plugin session's code: a new account, events on both topics", async () => {
    const session = await createSession(ctx, { plugin: 'test' });
    const user = newKakaoUserKey();
    expect(await say(user, `/pair ${session.pairingCode}`)).toBe(PAIRED);

    const [row] = await ctx.db.select().from(sessions).where(eq(sessions.id, session.sessionId));
    expect(row).toMatchObject({
      status: 'paired',
      pairedConversationKey: conversationKeyFor({ userKey: user }),
    });
    const accountId = row!.accountId!;
    expect(await mappingOf(user)).toMatchObject({ state: 'paired', accountId });

    const events = await outboxRows('pairing_complete', [
      sessionTopic(session.sessionId),
      accountTopic(accountId),
    ]);
    expect(events.map((e) => e.topic).sort()).toEqual(
      [accountTopic(accountId), sessionTopic(session.sessionId)].sort(),
    );
    for (const event of events) {
      expect(event.payload).toMatchObject({ kakaoUserId: user, accountId });
    }
    // One session, one Kakao user.
    expect(await say(newKakaoUserKey(), `/pair ${session.pairingCode}`)).toBe(USED);
  });

  it('answers the empty-code text to /pair alone or a malformed code', async () => {
    const user = newKakaoUserKey();
    for (const utterance of [
      '/pair',
      '  /pair   ',
      '/pair 12',
      '/pair ABCD-12345',
      '/pair 가나다라-마바사아',
    ]) {
      expect(await say(user, utterance)).toBe(EMPTY_CODE);
    }
    // `/pairing` is not the command: it is a message, and this conversation is not paired.
    expect(await say(user, '/pairing ABCD-2345')).toBe(NOT_CONNECTED);
  });

  it('tells invalid from expired codes, of both kinds', async () => {
    const user = newKakaoUserKey();
    expect(await say(user, '/pair ZZZZ-9999')).toBe(INVALID);

    const accountId = await newAccount();
    const { code } = await issuePairingCode(ctx, accountId);
    await ctx.db
      .update(pairingCodes)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(pairingCodes.code, code));
    expect(await say(user, `/pair ${code}`)).toBe(EXPIRED);

    const session = await createSession(ctx);
    await ctx.db
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(sessions.id, session.sessionId));
    expect(await say(user, `/pair ${session.pairingCode}`)).toBe(EXPIRED);

    // A disabled account's codes do not exist for the chat.
    const disabled = await newAccount();
    const issued = await issuePairingCode(ctx, disabled);
    await ctx.db.update(accounts).set({ disabledAt: new Date() }).where(eq(accounts.id, disabled));
    expect(await say(user, `/pair ${issued.code}`)).toBe(INVALID);
    expect((await mappingOf(user))!.state).toBe('unpaired');
  });

  it('keeps a blocked conversation blocked: no pairing, no unpair, no messages', async () => {
    const accountId = await newAccount();
    const first = await issuePairingCode(ctx, accountId);
    const user = newKakaoUserKey();
    expect(await say(user, `/pair ${first.code}`)).toBe(PAIRED);
    await ctx.db
      .update(conversationMappings)
      .set({ state: 'blocked' })
      .where(eq(conversationMappings.conversationKey, conversationKeyFor({ userKey: user })));

    const second = await issuePairingCode(ctx, accountId);
    expect(await say(user, `/pair ${second.code}`)).toBe(BLOCKED);
    expect(await say(user, '/unpair')).toBe(UNPAIR_NONE);
    expect(await say(user, '안녕하세요')).toBe(NOT_CONNECTED);
    expect(await mappingOf(user)).toMatchObject({ state: 'blocked', accountId });
    const [unused] = await ctx.db
      .select()
      .from(pairingCodes)
      .where(eq(pairingCodes.code, second.code));
    expect(unused!.usedAt).toBeNull();
    // Even when the chat's own unpair races the block, the block stays: only its owner lifts it.
    const key = conversationKeyFor({ userKey: user });
    expect(await unpairConversation(ctx, key, { liftsBlock: false })).toBe('not_paired');
    expect(await mappingOf(user)).toMatchObject({ state: 'blocked', accountId });
    expect(await unpairConversation(ctx, key, { accountId })).toBe('unpaired');
    expect(await mappingOf(user)).toMatchObject({ state: 'unpaired', accountId: null });
  });

  it('allows five attempts per conversation in five minutes, then says how long to wait', async () => {
    const user = newKakaoUserKey();
    for (let i = 0; i < 5; i++) expect(await say(user, '/pair WXYZ-2345')).toBe(INVALID);
    const refused = await say(user, '/pair WXYZ-2345');
    const wait =
      /^⏱️ 페어링 시도 한도 초과\n\n5분에 최대 5회까지 페어링을 시도할 수 있습니다\.\n\n(\d+)분 후 다시 시도해주세요\.$/.exec(
        refused!,
      );
    expect(wait, refused).not.toBeNull();
    // The sliding window frees up at most two windows after the hits that filled it.
    expect(Number(wait![1])).toBeGreaterThanOrEqual(1);
    expect(Number(wait![1])).toBeLessThanOrEqual(10);
    // Even the right code waits: the limit is what makes guessing hopeless.
    const { code } = await issuePairingCode(ctx, await newAccount());
    expect(await say(user, `/pair ${code}`)).toMatch(/^⏱️ 페어링 시도 한도 초과/);
    // Malformed codes never reach the lookup and are not counted; other users are not limited.
    expect(await say(user, '/pair')).toBe(EMPTY_CODE);
    expect(await say(newKakaoUserKey(), `/pair ${code}`)).toBe(PAIRED);
  });

  it('unpairs, then the conversation is not connected and can pair again', async () => {
    const accountId = await newAccount();
    const user = newKakaoUserKey();
    expect(await say(user, '/unpair')).toBe(UNPAIR_NONE);
    expect(await say(user, `/pair ${(await issuePairingCode(ctx, accountId)).code}`)).toBe(PAIRED);
    expect(await say(user, ' /UNPAIR ')).toBe(UNPAIRED);
    expect(await mappingOf(user)).toMatchObject({ state: 'unpaired', accountId: null });
    expect(await say(user, '안녕하세요')).toBe(NOT_CONNECTED);
    expect(await say(user, '/unpair')).toBe(UNPAIR_NONE);
    expect(await say(user, `/pair ${(await issuePairingCode(ctx, accountId)).code}`)).toBe(PAIRED);
  });

  it("ends a plugin session when its user unpairs: pairing_expired on the session's stream", async () => {
    const session = await createSession(ctx);
    const user = newKakaoUserKey();
    expect(await say(user, `/pair ${session.pairingCode}`)).toBe(PAIRED);
    expect(await say(user, '/unpair')).toBe(UNPAIRED);
    const [row] = await ctx.db.select().from(sessions).where(eq(sessions.id, session.sessionId));
    expect(row!.status).toBe('disconnected');
    const expired = await outboxRows('pairing_expired', [sessionTopic(session.sessionId)]);
    expect(expired).toEqual([
      { topic: sessionTopic(session.sessionId), payload: { reason: 'unpaired' } },
    ]);
  });
});
