// Replies over real HTTP to a stand-in for Kakao's callback endpoint on 127.0.0.1: SUCCESS,
// FAIL, no answer, a second reply, an expired or missing callback, and SkillResponse checks.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import type { RelayContext } from '../context.js';
import { call, makeAccount, queueMessage, type TestAccount } from '../openclaw/test-fixtures.js';
import { inboundMessages, outboundMessages } from '../schema.js';

interface Received {
  readonly path: string;
  readonly body: unknown;
}

/** Answers by path: /ok SUCCESS, /fail FAIL, /500 an HTTP error, /hang never. */
async function startFakeKakao(): Promise<{ url: string; received: Received[]; close(): void }> {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, body: JSON.parse(text) as unknown });
      const answer = (status: number, body: Record<string, unknown>) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const task = { taskId: 't-1', timestamp: Date.now() };
      if (path.startsWith('/ok')) answer(200, { ...task, status: 'SUCCESS', message: 'done' });
      else if (path.startsWith('/fail')) {
        answer(200, { ...task, status: 'FAIL', message: 'Invalid callback token.' });
      } else if (path.startsWith('/500'))
        answer(500, { ...task, status: 'ERROR', message: 'boom' });
      else hanging.add(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close() {
      for (const res of hanging) res.destroy();
      server.close();
    },
  };
}

const response = (text: string) => ({
  version: '2.0',
  template: { outputs: [{ simpleText: { text } }], quickReplies: [] },
});

describe(`relay replies (${target})`, () => {
  let t: TestServer;
  let ctx: RelayContext;
  let kakao: Awaited<ReturnType<typeof startFakeKakao>>;
  let agent: TestAccount;

  beforeAll(async () => {
    kakao = await startFakeKakao();
    t = await startTestServer({
      env: { RELAY_CALLBACK_INSECURE_HOSTS: '127.0.0.1', RELAY_CALLBACK_TIMEOUT_MS: '1500' },
    });
    ctx = t.server.relay.context;
    agent = await makeAccount(ctx);
  });
  afterAll(async () => {
    await t?.stop();
    kakao?.close();
  });

  const reply = (messageId: string, body: unknown = response('hi'), path = '/openclaw/reply') =>
    call(t.url, 'POST', path, { token: agent.token, body: { messageId, response: body } });
  const inbound = async (id: string) =>
    (await ctx.db.select().from(inboundMessages).where(eq(inboundMessages.id, id)))[0]!;
  const outbound = async (inboundId: string) =>
    ctx.db.select().from(outboundMessages).where(eq(outboundMessages.inboundMessageId, inboundId));

  it('posts the SkillResponse to the callback once; Kakao SUCCESS acks the message', async () => {
    const message = await queueMessage(ctx, agent.id, { callbackUrl: `${kakao.url}/ok/1` });
    const before = Date.now();
    const sent = await reply(message.id, response('안녕하세요'));
    expect(sent.body).toMatchObject({ success: true });
    expect(sent.body).toEqual({
      success: true,
      deliveredAt: expect.any(Number),
      outboundMessageId: expect.any(String),
    });
    expect(sent.body.deliveredAt).toBeGreaterThanOrEqual(before - 1000);
    expect(kakao.received.find((r) => r.path === '/ok/1')?.body).toEqual(response('안녕하세요'));
    expect(await inbound(message.id)).toMatchObject({ status: 'acked' });
    expect(await outbound(message.id)).toMatchObject([
      { id: sent.body.outboundMessageId, status: 'sent', kakaoStatus: 'SUCCESS' },
    ]);

    // The callback is single-use: a second reply (the plugin streams blocks) is refused.
    expect(await reply(message.id, response('again'), '/v1/reply')).toMatchObject({
      status: 409,
      body: { error: { code: 'callback_used' } },
    });
    expect(kakao.received.filter((r) => r.path === '/ok/1')).toHaveLength(1);
  });

  it('reports Kakao FAIL and HTTP errors as 502 with Kakao’s message', async () => {
    const failing = await queueMessage(ctx, agent.id, { callbackUrl: `${kakao.url}/fail/1` });
    const failed = await reply(failing.id);
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('callback_failed');
    expect(failed.body.error.message).toContain('Invalid callback token.');
    expect(await outbound(failing.id)).toMatchObject([
      { status: 'failed', kakaoStatus: 'FAIL', errorMessage: 'Invalid callback token.' },
    ]);
    expect((await inbound(failing.id)).status).toBe('queued');
    // Kakao answered, so the callback is spent.
    expect((await reply(failing.id)).status).toBe(409);

    const erroring = await queueMessage(ctx, agent.id, { callbackUrl: `${kakao.url}/500/1` });
    const errored = await reply(erroring.id);
    expect(errored.status).toBe(502);
    expect(errored.body.error.message).toContain('boom');
    expect(await outbound(erroring.id)).toMatchObject([{ status: 'failed', kakaoStatus: 'ERROR' }]);
  });

  it('releases the callback when Kakao did not answer, so the agent may retry', async () => {
    const message = await queueMessage(ctx, agent.id, { callbackUrl: `${kakao.url}/hang/1` });
    const first = await reply(message.id);
    expect(first.status).toBe(502);
    expect(first.body.error.code).toBe('callback_failed');
    expect((await inbound(message.id)).callbackUsedAt).toBeNull();
    expect(await outbound(message.id)).toMatchObject([{ status: 'failed', kakaoStatus: null }]);
    // Kakao is reachable again at that URL: point the row there and retry.
    await ctx.db
      .update(inboundMessages)
      .set({ callbackUrl: `${kakao.url}/ok/retry` })
      .where(eq(inboundMessages.id, message.id));
    expect((await reply(message.id)).status).toBe(200);
  });

  it('refuses expired and missing callbacks with 410', async () => {
    const expired = await queueMessage(ctx, agent.id, {
      callbackUrl: `${kakao.url}/ok/expired`,
      callbackExpiresAt: new Date(Date.now() - 1000),
    });
    expect(await reply(expired.id)).toMatchObject({
      status: 410,
      body: { error: { code: 'callback_expired' } },
    });
    const missing = await queueMessage(ctx, agent.id, { callbackUrl: null });
    expect(await reply(missing.id)).toMatchObject({
      status: 410,
      body: { error: { code: 'callback_missing' } },
    });
    // A URL outside the allowed hosts is as good as none, and nothing is posted.
    const foreign = await queueMessage(ctx, agent.id, { callbackUrl: 'https://example.com/cb' });
    expect(await reply(foreign.id)).toMatchObject({
      status: 410,
      body: { error: { code: 'callback_missing' } },
    });
    expect(await outbound(foreign.id)).toEqual([]);
    expect(await reply(crypto.randomUUID())).toMatchObject({ status: 404 });
    expect(kakao.received.some((r) => r.path.includes('expired'))).toBe(false);
  });

  it('checks the SkillResponse before spending the callback', async () => {
    const message = await queueMessage(ctx, agent.id, { callbackUrl: `${kakao.url}/ok/checked` });
    const bad = async (body: unknown) => {
      const answer = await reply(message.id, body);
      expect(answer.status).toBe(400);
      return answer.body.error.message as string;
    };
    expect(await bad({ version: '1.0' })).toContain('version');
    expect(
      await bad({ version: '2.0', template: { outputs: [{ fancyCard: { title: 'x' } }] } }),
    ).toContain('unknown output component "fancyCard"');
    expect(
      await bad({
        version: '2.0',
        template: { outputs: [{ simpleText: { text: 'x'.repeat(1001) } }] },
      }),
    ).toContain('simpleText.text');
    expect(
      await bad({
        version: '2.0',
        template: { outputs: [1, 2, 3, 4].map(() => ({ simpleText: { text: 'x' } })) },
      }),
    ).toContain('outputs');
    const tooLongLabel = {
      version: '2.0',
      template: {
        outputs: [
          {
            basicCard: {
              title: 'card',
              thumbnail: { imageUrl: 'https://img.example/x.png' },
              buttons: [{ label: 'x'.repeat(15), action: 'message', messageText: 'x' }],
            },
          },
        ],
      },
    };
    expect(await bad(tooLongLabel)).toContain('buttons');
    const carouselOfOne = {
      version: '2.0',
      template: {
        outputs: [{ carousel: { type: 'textCard', items: [{ title: 'only one' }] } }],
      },
    };
    expect(await bad(carouselOfOne)).toContain('carousel.items');
    expect((await inbound(message.id)).callbackUsedAt).toBeNull();

    const rich = {
      version: '2.0',
      template: {
        outputs: [
          { simpleImage: { imageUrl: 'https://img.example/a.png', altText: 'a' } },
          {
            carousel: {
              type: 'basicCard',
              items: [1, 2].map((i) => ({
                title: `card ${i}`,
                thumbnail: { imageUrl: `https://img.example/${i}.png` },
                buttons: [{ label: '열기', action: 'webLink', webLinkUrl: 'https://example.com' }],
              })),
            },
          },
          {
            listCard: {
              header: { title: 'list' },
              items: [{ title: 'one' }, { title: 'two' }],
            },
          },
        ],
        quickReplies: [{ label: '/compact', action: 'message', messageText: '/compact' }],
      },
      data: { text: 'waiting' },
    };
    expect((await reply(message.id, rich)).status).toBe(200);
  });
});
