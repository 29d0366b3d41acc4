// Messages and the informational commands: a paired conversation's message becomes an outbox
// event on its account's topic plus a queued inbound row carrying the event's seq; without a
// usable callback URL nothing is queued and the user is told why; `/status`, `/help`, `/code`.
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../pipeline/schema.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import type { RelayContext } from '../context.js';
import { issuePairingCode } from '../pairing/index.js';
import {
  accounts,
  conversationMappings,
  inboundMessages,
  outboundMessages,
  portalAccessCodes,
} from '../schema.js';
import { selectInboundRows } from '../messages/inbound-rows.js';
import {
  conversationKeyFor,
  kakaoCallbackUrl,
  newKakaoUserKey,
  postSkillPayload,
  replyText,
  skillPayload,
  type SkillPayloadOptions,
} from '../test-support/skill-payload.js';
import { accessCodeHash, hashToken, newToken } from '../tokens.js';
import { accountTopic } from '../topics.js';

const NOT_CONNECTED =
  'OpenClaw에 연결되지 않았습니다.\n\n연결하려면 페어링 코드를 받은 후:\n/pair <코드>\n\n를 입력해주세요.\n\n도움말: /help';
const STATUS_NOT_PAIRED = '❌ 연결되지 않음\n\n/pair <코드>로 연결하세요.';
const HELP =
  '📖 도움말\n\n이 봇은 OpenClaw AI 에이전트와 연결하는 중계 서비스입니다.\n\n명령어:\n• /pair <코드> - OpenClaw에 연결\n• /unpair - 연결 해제\n• /status - 연결 상태 확인\n• /code - 포털 접속 코드 발급\n• /help - 이 도움말';
const CODE_NOT_PAIRED =
  '포털 접속 코드는 연결된 대화에서만 발급할 수 있습니다.\n\n먼저 /pair <코드>로 연결하세요.';
const CALLBACK_NOT_ENABLED =
  '⚠️ 메시지를 전달할 수 없습니다.\n\n이 챗봇의 AI 챗봇 콜백 기능이 켜져 있지 않아 OpenClaw의 답변을 받을 수 없습니다.\n\n봇 관리자에게 콜백 기능을 켜 달라고 요청해주세요.';
const PORTAL_BASE_URL = 'https://relay.example.com/';
const TEST_CALLBACK_HOST = '127.0.0.1:9';

describe(`kakao messages and commands (${target})`, () => {
  let t: TestServer;
  let ctx: RelayContext;
  beforeAll(async () => {
    t = await startTestServer({
      env: { PORTAL_BASE_URL, RELAY_CALLBACK_INSECURE_HOSTS: TEST_CALLBACK_HOST },
    });
    ctx = t.server.relay.context;
  });
  afterAll(() => t?.stop());

  async function send(options: SkillPayloadOptions) {
    const payload = skillPayload(options);
    const answer = await postSkillPayload(t.url, payload);
    expect(answer.status).toBe(200);
    return { payload, body: answer.body, text: replyText(answer.body) };
  }
  const say = async (userKey: string, utterance: string, callbackUrl = kakaoCallbackUrl()) =>
    (await send({ userKey, utterance, callbackUrl })).text;

  /** A new account and a conversation paired to it. */
  async function pairedUser(): Promise<{ accountId: string; userKey: string; key: string }> {
    const [account] = await ctx.db
      .insert(accounts)
      .values({ relayTokenHash: hashToken(newToken()) })
      .returning({ id: accounts.id });
    const accountId = account!.id;
    const userKey = newKakaoUserKey();
    const { code } = await issuePairingCode(ctx, accountId);
    expect(await say(userKey, `/pair ${code}`)).toContain('✅');
    return { accountId, userKey, key: conversationKeyFor({ userKey }) };
  }

  const inboundOf = (key: string) =>
    selectInboundRows(ctx.db)
      .where(eq(inboundMessages.conversationKey, key))
      .orderBy(asc(inboundMessages.eventSeq));
  const messageEventsOf = (accountId: string) =>
    ctx.db
      .select({ seq: outbox.seq, payload: outbox.payload })
      .from(outbox)
      .where(and(eq(outbox.topic, accountTopic(accountId)), eq(outbox.type, 'message')))
      .orderBy(asc(outbox.seq));

  it('queues a paired conversation’s message: event on the account topic, row with its seq', async () => {
    const { accountId, userKey, key } = await pairedUser();
    const callbackUrl = kakaoCallbackUrl();
    const before = Date.now();
    const first = await send({ userKey, utterance: '오늘 날씨 어때?', callbackUrl });
    expect(first.body).toEqual({ version: '2.0', useCallback: true });
    const second = await send({ userKey, utterance: '고마워', callbackUrl: kakaoCallbackUrl() });
    expect(second.body).toEqual({ version: '2.0', useCallback: true });

    const rows = await inboundOf(key);
    expect(rows).toHaveLength(2);
    const [row, next] = rows;
    expect(row).toMatchObject({
      accountId,
      conversationKey: key,
      status: 'queued',
      callbackUrl,
      kakaoPayload: first.payload,
      normalizedMessage: {
        userId: userKey,
        text: '오늘 날씨 어때?',
        channelId: key.split(':')[0],
      },
    });
    const ttl = t.config.CALLBACK_TTL_SECONDS * 1000;
    expect(row!.callbackExpiresAt!.getTime()).toBeGreaterThanOrEqual(before + ttl - 1000);
    expect(row!.callbackExpiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + ttl + 1000);
    expect(next!.eventSeq).toBe(row!.eventSeq + 1);

    const events = await messageEventsOf(accountId);
    expect(events.map((e) => e.seq)).toEqual([row!.eventSeq, next!.eventSeq]);
    expect(events[0]!.payload).toEqual({
      id: row!.id,
      conversationKey: key,
      kakaoPayload: first.payload,
      normalized: { userId: userKey, text: '오늘 날씨 어때?', channelId: key.split(':')[0] },
      createdAt: row!.createdAt.toISOString(),
    });

    const [mapping] = await ctx.db
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, key));
    const { callbackUrl: newest } = second.payload.userRequest as { callbackUrl: string };
    expect(mapping!.lastCallbackUrl).toBe(newest);
    expect(mapping!.lastCallbackExpiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it('queues a message with a NUL character in it, without the character', async () => {
    const { userKey, key } = await pairedUser();
    const sent = await send({ userKey, utterance: 'a\u0000b', callbackUrl: kakaoCallbackUrl() });
    expect(sent.body).toEqual({ version: '2.0', useCallback: true });
    const [row] = await inboundOf(key);
    expect(row?.normalizedMessage).toMatchObject({ text: 'ab' });
    expect(row?.kakaoPayload).toMatchObject({ userRequest: { utterance: 'ab' } });
  });

  it('keys a conversation on the user id and the default bot when Kakao omits them', async () => {
    const { accountId } = await pairedUser();
    const userKey = newKakaoUserKey();
    const { code } = await issuePairingCode(ctx, accountId);
    const options = { userKey, botId: null, withoutPlusfriendUserKey: true } as const;
    expect((await send({ ...options, utterance: `/pair ${code}` })).text).toContain('✅');
    await send({ ...options, utterance: 'hi', callbackUrl: kakaoCallbackUrl() });
    const key = conversationKeyFor(options);
    expect(key.startsWith('default:bu_')).toBe(true);
    expect(await inboundOf(key)).toHaveLength(1);
  });

  it('queues nothing without a callback URL and says the callback must be enabled', async () => {
    const { accountId, userKey, key } = await pairedUser();
    const answer = await send({ userKey, utterance: '안녕?' });
    expect(answer.text).toBe(CALLBACK_NOT_ENABLED);
    expect(await inboundOf(key)).toEqual([]);
    expect(await messageEventsOf(accountId)).toEqual([]);
  });

  it('treats a callback URL the policy refuses as missing, and does not remember it', async () => {
    const { accountId, userKey, key } = await pairedUser();
    for (const callbackUrl of [
      'https://evil.example.com/callback/abc',
      'http://bot-api.kakao.com/callback/abc',
      'https://kakao.com.evil.example/callback',
      'not a url',
    ]) {
      expect(await say(userKey, '안녕?', callbackUrl)).toBe(CALLBACK_NOT_ENABLED);
    }
    expect(await inboundOf(key)).toEqual([]);
    expect(await messageEventsOf(accountId)).toEqual([]);
    const [mapping] = await ctx.db
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, key));
    expect(mapping!.lastCallbackUrl).not.toMatch(/evil|http:|not a url/);

    // A host named in RELAY_CALLBACK_INSECURE_HOSTS is usable.
    const testHost = `http://${TEST_CALLBACK_HOST}/callback/1`;
    expect((await send({ userKey, utterance: 'ok', callbackUrl: testHost })).body).toEqual({
      version: '2.0',
      useCallback: true,
    });
    expect((await inboundOf(key))[0]!.callbackUrl).toBe(testHost);
  });

  it('answers unpaired, blocked and disabled-account conversations with the not-connected text', async () => {
    expect(await say(newKakaoUserKey(), '안녕하세요')).toBe(NOT_CONNECTED);

    const blocked = await pairedUser();
    await ctx.db
      .update(conversationMappings)
      .set({ state: 'blocked' })
      .where(eq(conversationMappings.conversationKey, blocked.key));
    expect(await say(blocked.userKey, '안녕하세요')).toBe(NOT_CONNECTED);
    expect(await say(blocked.userKey, '/status')).toBe(STATUS_NOT_PAIRED);

    const disabled = await pairedUser();
    await ctx.db
      .update(accounts)
      .set({ disabledAt: new Date() })
      .where(eq(accounts.id, disabled.accountId));
    expect(await say(disabled.userKey, '안녕하세요')).toBe(NOT_CONNECTED);
    expect(await say(disabled.userKey, '/status')).toBe(STATUS_NOT_PAIRED);
    expect(await say(disabled.userKey, '/code')).toBe(CODE_NOT_PAIRED);
    for (const { key } of [blocked, disabled]) expect(await inboundOf(key)).toEqual([]);
  });

  it('answers /help in any case; a command word with extra words is a message', async () => {
    const user = newKakaoUserKey();
    for (const utterance of ['/help', ' /HELP ', '/Help']) {
      expect(await say(user, utterance)).toBe(HELP);
    }
    expect(await say(user, '/help me')).toBe(NOT_CONNECTED);
    // Commands need no callback: Kakao takes a template answer from a callback block too.
    expect((await send({ userKey: user, utterance: '/help' })).text).toBe(HELP);
  });

  it('answers /status with today’s and all-time counts and the pairing time in Korean time', async () => {
    const user = newKakaoUserKey();
    expect(await say(user, '/status')).toBe(STATUS_NOT_PAIRED);

    const { accountId, userKey, key } = await pairedUser();
    for (const text of ['하나', '둘', '셋']) await say(userKey, text);
    const old = new Date(Date.now() - 3 * 24 * 3600_000);
    const [queued] = await inboundOf(key);
    await ctx.db.insert(inboundMessages).values({
      accountId,
      conversationKey: key,
      eventSeq: 0,
      status: 'acked',
      createdAt: old,
    });
    const outbound = (status: 'sent' | 'failed', createdAt = new Date()) => ({
      accountId,
      conversationKey: key,
      inboundMessageId: queued!.id,
      responsePayload: { version: '2.0' },
      status,
      createdAt,
    });
    await ctx.db
      .insert(outboundMessages)
      .values([outbound('sent'), outbound('failed'), outbound('sent', old)]);
    // Another account's messages in the same conversation are not this pairing's.
    const [other] = await ctx.db
      .insert(accounts)
      .values({ relayTokenHash: hashToken(newToken()) })
      .returning({ id: accounts.id });
    await ctx.db.insert(outboundMessages).values({ ...outbound('sent'), accountId: other!.id });

    const [mapping] = await ctx.db
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, key));
    const pairedAt = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Asia/Seoul',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }).format(mapping!.pairedAt!);
    expect(await say(userKey, ' /STATUS ')).toBe(
      '✅ 연결됨\n\n📊 오늘 통계\n• 수신: 3건\n• 발신: 2건 (실패 1)\n\n📈 전체 통계\n• 총 수신: 4건\n• 총 발신: 3건\n\n' +
        `연결 시간: ${pairedAt}`,
    );
    expect(pairedAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('issues /code portal access codes to paired conversations, three per five minutes', async () => {
    const stranger = newKakaoUserKey();
    expect(await say(stranger, '/code')).toBe(CODE_NOT_PAIRED);

    const { userKey, key } = await pairedUser();
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const text = (await say(userKey, i === 0 ? '/CODE' : '/code'))!;
      const match =
        /^🔑 포털 접속 코드\n\n코드: ([A-Z2-9]{4}-[A-Z2-9]{4})\n유효시간: 30분\n\n이 코드로 포털에서 대화 내역과 통계를 확인할 수 있습니다\.\n\n포털 주소:\nhttps:\/\/relay\.example\.com\/portal\/code$/.exec(
          text,
        );
      expect(match, text).not.toBeNull();
      codes.push(match![1]!);
    }
    expect(new Set(codes).size).toBe(3);
    const rows = await ctx.db
      .select()
      .from(portalAccessCodes)
      .where(eq(portalAccessCodes.conversationKey, key));
    // Stored as their HMAC only.
    const secret = ctx.config.PORTAL_SESSION_SECRET;
    expect(rows.map((r) => r.codeHash).sort()).toEqual(
      codes.map((code) => accessCodeHash(secret, code)).sort(),
    );
    for (const row of rows) {
      expect(row.usedAt).toBeNull();
      const lifetime = row.expiresAt.getTime() - row.createdAt.getTime();
      expect(lifetime).toBe(30 * 60_000);
    }

    const limited = (await say(userKey, '/code'))!;
    const wait =
      /^⏱️ 코드 생성 한도 초과\n\n5분에 최대 3회까지 코드를 생성할 수 있습니다\.\n\n(\d+)분 후 다시 시도해주세요\.$/.exec(
        limited,
      );
    expect(wait, limited).not.toBeNull();
    // The sliding window frees up at most two windows after the hits that filled it.
    expect(Number(wait![1])).toBeGreaterThanOrEqual(1);
    expect(Number(wait![1])).toBeLessThanOrEqual(10);
    const after = await ctx.db
      .select()
      .from(portalAccessCodes)
      .where(eq(portalAccessCodes.conversationKey, key));
    expect(after).toHaveLength(3);
  });
});
