// Chat API rate limits with low limits: per IP on every chat route, per user on writes and
// searches, 429 with Retry-After and X-RateLimit-* headers; other modules' routes untouched.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { classifyRoute } from './rate-limits.js';

describe('chat route classes', () => {
  it('tells message sends, other writes, searches and reads apart', () => {
    expect(classifyRoute('POST', '/api/v1/channels/:channelId/messages')).toBe('message');
    expect(classifyRoute('POST', '/api/v1/dm/:id/messages')).toBe('message');
    expect(classifyRoute('POST', '/api/v1/messages/:id/thread')).toBe('message');
    expect(classifyRoute('PUT', '/api/v1/messages/:id')).toBe('write');
    expect(classifyRoute('DELETE', '/api/v1/channels/:id')).toBe('write');
    expect(classifyRoute('GET', '/api/v1/messages/search')).toBe('search');
    expect(classifyRoute('GET', '/api/v1/session/search')).toBe('search');
    expect(classifyRoute('GET', '/api/v1/channels/:channelId/messages')).toBe('read');
  });
});

interface Account {
  id: string;
  accessToken: string;
}

describe(`chat rate limits (${target})`, () => {
  let t: TestServer;
  let ann: Account;
  let ben: Account;
  // Unique per run: with Redis the counters are shared with every other test process.
  const run = randomBytes(4).toString('hex');
  let ipCounter = 0;
  const freshIp = () => `fd00:${run.slice(0, 4)}:${run.slice(4)}::${(ipCounter += 1).toString(16)}`;

  const from = (ip: string, method: string, url: string, token?: string, body?: unknown) =>
    t.server.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: ip,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    t = await startTestServer({
      env: {
        CHAT_RATE_LIMIT_IP_PER_MINUTE: '8',
        CHAT_RATE_LIMIT_WRITES_PER_MINUTE: '3',
        CHAT_RATE_LIMIT_SEARCHES_PER_MINUTE: '2',
      },
    });
    // Registration itself is limited per IP: each account comes from its own address.
    const register = async (name: string) => {
      const ip = freshIp();
      const response = await from(ip, 'POST', '/api/v1/auth/register', undefined, {
        email: `${name}-${run}-${ipCounter}@example.com`,
        username: `${name}-${Date.now().toString(36)}${ipCounter}`,
        password: 'correct horse battery',
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<{ user: { id: string }; accessToken: string }>();
    };
    const [a, b] = [await register('ann'), await register('ben')];
    ann = { id: a.user.id, accessToken: a.accessToken };
    ben = { id: b.user.id, accessToken: b.accessToken };
  });
  afterAll(() => t?.stop());

  it('limits each IP on every chat route, with the headers and a 429 in the error shape', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await from(ip, 'GET', '/api/v1/users/me', ann.accessToken);
      statuses.push(response.statusCode);
      if (i === 0) {
        expect(response.headers['x-ratelimit-limit']).toBe('8');
        expect(response.headers['x-ratelimit-remaining']).toBe('7');
        expect(Number(response.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    const refused = await from(ip, 'GET', '/api/v1/users/me', ann.accessToken);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    // Anonymous calls count too; another address is not affected.
    expect((await from(ip, 'GET', '/api/v1/users/me')).statusCode).toBe(429);
    expect((await from(freshIp(), 'GET', '/api/v1/users/me', ann.accessToken)).statusCode).toBe(
      200,
    );
  });

  it('limits writes and searches per user, whatever the address', async () => {
    const writes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await from(freshIp(), 'PATCH', '/api/v1/users/me', ann.accessToken, {
        displayName: `Ann ${i}`,
      });
      writes.push(response.statusCode);
      if (i === 0) expect(response.headers['x-ratelimit-limit']).toBe('3');
    }
    expect(writes).toEqual([200, 200, 200, 429]);
    // Ben's writes and Ann's reads are their own budgets.
    expect(
      (
        await from(freshIp(), 'PATCH', '/api/v1/users/me', ben.accessToken, {
          displayName: 'Ben',
        })
      ).statusCode,
    ).toBe(200);
    expect((await from(freshIp(), 'GET', '/api/v1/users/me', ann.accessToken)).statusCode).toBe(
      200,
    );

    const searches: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await from(
        freshIp(),
        'GET',
        '/api/v1/messages/search?q=hello',
        ben.accessToken,
      );
      searches.push(response.statusCode);
    }
    expect(searches).toEqual([200, 200, 429]);
  });

  it('leaves routes of other modules alone', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      const response = await from(ip, 'GET', '/healthz');
      expect(response.statusCode).not.toBe(429);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });
});
