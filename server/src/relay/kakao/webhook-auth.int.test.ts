// The webhook's door: the optional static secret (header or path) and body signature, and the
// 400s for bodies that are not a SkillPayload — all in the one error shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { postSkillPayload, replyText, skillPayload } from '../test-support/skill-payload.js';
import { signBody } from './webhook-auth.js';

const NOT_CONNECTED =
  'OpenClaw에 연결되지 않았습니다.\n\n연결하려면 페어링 코드를 받은 후:\n/pair <코드>\n\n를 입력해주세요.\n\n도움말: /help';
const WEBHOOK_SECRET = 'relay-webhook-secret-0123456789';
const SIGNATURE_SECRET = 'kakao-signature-secret';

describe(`kakao webhook without secrets (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  it('answers both paths, whatever the content type says', async () => {
    for (const path of ['/kakao-talkchannel/webhook', '/kakao/webhook']) {
      const answer = await postSkillPayload(t.url, skillPayload({ utterance: '안녕하세요' }), {
        path,
      });
      expect(answer.status).toBe(200);
      expect(replyText(answer.body)).toBe(NOT_CONNECTED);
    }
    const asText = await postSkillPayload(t.url, skillPayload({ utterance: 'hi' }), {
      headers: { 'content-type': 'text/plain' },
    });
    expect(replyText(asText.body)).toBe(NOT_CONNECTED);
  });

  it('has no secret paths when no secret is configured', async () => {
    const answer = await postSkillPayload(t.url, skillPayload({ utterance: 'hi' }), {
      path: `/kakao-talkchannel/webhook/${WEBHOOK_SECRET}`,
    });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('refuses bodies that are not JSON with 400 invalid_json', async () => {
    for (const raw of ['{"userRequest":', 'not json', '']) {
      const answer = await postSkillPayload(t.url, raw);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        error: { code: 'invalid_json', message: expect.any(String) },
      });
    }
  });

  it('refuses JSON that is not a SkillPayload with 400 invalid_request', async () => {
    const valid = skillPayload({ utterance: 'hi' });
    const userRequest = valid.userRequest as Record<string, unknown>;
    const bodies: unknown[] = [
      [],
      42,
      { bot: { id: 'x' } },
      { ...valid, userRequest: { ...userRequest, utterance: undefined } },
      { ...valid, userRequest: { ...userRequest, utterance: 7 } },
      { ...valid, userRequest: { ...userRequest, user: { type: 'botUserKey' } } },
      { ...valid, userRequest: { ...userRequest, user: { id: '' } } },
    ];
    for (const body of bodies) {
      const answer = await postSkillPayload(t.url, JSON.stringify(body));
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body).toMatchObject({
        error: { code: 'invalid_request', message: expect.any(String) },
      });
    }
  });

  it('accepts a minimal payload and keeps unknown fields', async () => {
    const answer = await postSkillPayload(
      t.url,
      JSON.stringify({
        userRequest: { utterance: '/help', user: { id: 'u1' }, somethingNew: { a: 1 } },
        later: true,
      }),
    );
    expect(answer.status).toBe(200);
    expect(replyText(answer.body)).toContain('📖 도움말');
  });

  it('refuses a body over the server limit with 413 in the error shape', async () => {
    const huge = skillPayload({ utterance: 'x'.repeat(t.config.BODY_LIMIT_BYTES + 10) });
    const response = await t.server.app.inject({
      method: 'POST',
      url: '/kakao-talkchannel/webhook',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(huge),
    });
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});

describe(`kakao webhook with a secret and a signature (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      env: { KAKAO_WEBHOOK_SECRET: WEBHOOK_SECRET, KAKAO_SIGNATURE_SECRET: SIGNATURE_SECRET },
    });
  });
  afterAll(() => t?.stop());

  const body = () => JSON.stringify(skillPayload({ utterance: '안녕' }));
  const signed = (raw: string, extra: Record<string, string> = {}) => ({
    'x-kakao-signature': signBody(SIGNATURE_SECRET, raw),
    ...extra,
  });

  it('accepts the secret in the header or as the last path segment, on both paths', async () => {
    for (const base of ['/kakao-talkchannel/webhook', '/kakao/webhook']) {
      const raw = body();
      const byHeader = await postSkillPayload(t.url, raw, {
        path: base,
        headers: signed(raw, { 'x-relay-secret': WEBHOOK_SECRET }),
      });
      expect(byHeader.status).toBe(200);
      expect(replyText(byHeader.body)).toBe(NOT_CONNECTED);
      const byPath = await postSkillPayload(t.url, raw, {
        path: `${base}/${WEBHOOK_SECRET}`,
        headers: signed(raw),
      });
      expect(byPath.status).toBe(200);
      expect(replyText(byPath.body)).toBe(NOT_CONNECTED);
    }
  });

  it('refuses a missing or wrong secret with 401 before looking at the body', async () => {
    const raw = body();
    const cases = [
      { headers: signed(raw), message: 'Missing webhook secret' },
      {
        headers: signed(raw, { 'x-relay-secret': `${WEBHOOK_SECRET}x` }),
        message: 'Invalid webhook secret',
      },
      {
        path: '/kakao-talkchannel/webhook/wrong-secret-but-long-enough',
        headers: signed(raw),
        message: 'Invalid webhook secret',
      },
    ];
    for (const { path, headers, message } of cases) {
      const answer = await postSkillPayload(t.url, raw, { ...(path ? { path } : {}), headers });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 'unauthorized', message } });
    }
    const garbage = await postSkillPayload(t.url, 'not json', { headers: {} });
    expect(garbage.status).toBe(401);
  });

  it('accepts the signature bare, with a sha256= prefix, or in upper case', async () => {
    const raw = body();
    const signature = signBody(SIGNATURE_SECRET, raw);
    for (const header of [signature, `sha256=${signature}`, signature.toUpperCase()]) {
      const answer = await postSkillPayload(t.url, raw, {
        headers: { 'x-relay-secret': WEBHOOK_SECRET, 'x-kakao-signature': header },
      });
      expect(answer.status).toBe(200);
    }
  });

  it('refuses a missing signature, a wrong one, or one over other bytes with 401', async () => {
    const raw = body();
    const reformatted = JSON.stringify(JSON.parse(raw), null, 2);
    const cases: [Record<string, string>, string][] = [
      [{}, 'Missing signature'],
      [{ 'x-kakao-signature': 'ab'.repeat(32) }, 'Invalid signature'],
      [{ 'x-kakao-signature': signBody('another secret', raw) }, 'Invalid signature'],
      // The same JSON, other bytes: the signature is over the raw body.
      [{ 'x-kakao-signature': signBody(SIGNATURE_SECRET, reformatted) }, 'Invalid signature'],
    ];
    for (const [headers, message] of cases) {
      const answer = await postSkillPayload(t.url, raw, {
        headers: { 'x-relay-secret': WEBHOOK_SECRET, ...headers },
      });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 'unauthorized', message } });
    }
  });

  it('checks the signature before parsing: a signed bad body is 400', async () => {
    const raw = '{"broken":';
    const answer = await postSkillPayload(t.url, raw, {
      headers: signed(raw, { 'x-relay-secret': WEBHOOK_SECRET }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'invalid_json' } });
  });
});
