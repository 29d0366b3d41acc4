// The Kakao stand-in keeps Kakao's callback rules: one use, 60 s, FAIL afterwards.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeKakao, INVALID_CALLBACK_MESSAGE } from './fake-kakao.js';

const closers: Array<() => unknown> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('fake Kakao', () => {
  it('answers a callback SUCCESS once, then FAIL, and FAIL after 60 s', async () => {
    let now = 1_000_000;
    const fake = await FakeKakao.start({ relayUrl: 'http://127.0.0.1:1', now: () => now });
    closers.push(() => fake.close());
    const first = fake.newCallbackUrl();
    expect(first).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\/[0-9a-f-]{36}$/);
    const response = { version: '2.0', template: { outputs: [{ simpleText: { text: 'hi' } }] } };
    const ok = await postJson(first, response);
    expect(ok).toMatchObject({ status: 'SUCCESS', message: 'OK', timestamp: now });
    expect(typeof ok.taskId).toBe('string');
    expect(await postJson(first, response)).toEqual({
      status: 'FAIL',
      message: INVALID_CALLBACK_MESSAGE,
    });
    const late = fake.newCallbackUrl();
    now += 60_001;
    expect(await postJson(late, response)).toMatchObject({ status: 'FAIL' });
    expect((await fake.callbackOn(first)).body).toEqual(response);
    expect(fake.callbacks.map((c) => c.answeredStatus)).toEqual(['SUCCESS', 'FAIL', 'FAIL']);
  });

  it('posts SkillPayloads to the webhook with a callback URL unless told not to', async () => {
    const received: Array<{ url: string | undefined; body: Record<string, unknown> }> = [];
    const webhook = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ url: req.url, body: JSON.parse(text) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ version: '2.0', useCallback: true }));
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    closers.push(() => webhook.close());
    const port = (webhook.address() as AddressInfo).port;
    const fake = await FakeKakao.start({ relayUrl: `http://127.0.0.1:${port}` });
    closers.push(() => fake.close());

    const answer = await fake.send({ utterance: '/pair ABCD-EFGH', userKey: 'u1', botId: 'b1' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ version: '2.0', useCallback: true });
    expect(answer.ms).toBeGreaterThan(0);
    const request = received[0]!.body as {
      userRequest: { utterance: string; callbackUrl?: string; user: { properties: object } };
      bot: { id: string };
    };
    expect(received[0]!.url).toBe('/kakao-talkchannel/webhook');
    expect(request.userRequest.utterance).toBe('/pair ABCD-EFGH');
    expect(request.userRequest.callbackUrl).toBe(answer.callbackUrl);
    expect(request.userRequest.user.properties).toMatchObject({ plusfriendUserKey: 'u1' });
    expect(request.bot.id).toBe('b1');

    await fake.send({ utterance: 'hello', callback: false });
    expect(received[1]!.body.userRequest as object).not.toHaveProperty('callbackUrl');
  });
});
