// Accounts over HTTP: register, sign in, refresh rotation with reuse detection, lockout, sign out,
// profiles, and the access token opening a realtime connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs } from '../../test-support/ws-client.js';

const run = Math.random().toString(36).slice(2, 8);

describe(`chat accounts (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      env: { CHAT_LOGIN_MAX_FAILURES: '3', CHAT_LOGIN_LOCKOUT_SECONDS: '60' },
    });
  });
  afterAll(() => t?.stop());

  async function call(method: string, path: string, body?: unknown, token?: string) {
    const response = await t.server.app.inject({
      method: method as 'GET',
      url: path,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      // Bodies are checked by value with toMatchObject; a loose type keeps the reads short.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      body: response.body ? (JSON.parse(response.body) as Record<string, any>) : undefined,
    };
  }

  const registerUser = (name: string, password = 'correct horse battery') =>
    call('POST', '/api/v1/auth/register', {
      email: `${name}-${run}@example.com`,
      username: `${name}-${run}`,
      password,
      displayName: name,
    });

  it('registers, refuses duplicates and bad input with the error shape', async () => {
    const created = await registerUser('ada');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      user: { username: `ada-${run}`, displayName: 'ada', email: `ada-${run}@example.com` },
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    expect(created.body!.user.passwordHash).toBeUndefined();
    expect((await registerUser('ada')).body).toMatchObject({ error: { code: 'email_taken' } });
    const sameName = await call('POST', '/api/v1/auth/register', {
      email: `other-${run}@example.com`,
      username: `ADA-${run}`,
      password: 'long enough pw',
    });
    expect(sameName).toMatchObject({ status: 409, body: { error: { code: 'username_taken' } } });
    const bad = await call('POST', '/api/v1/auth/register', {
      email: 'nope',
      username: '!',
      password: 'short',
    });
    expect(bad.status).toBe(400);
    expect(bad.body!.error.code).toBe('invalid_request');
  });

  it('signs in by email or username and refuses a wrong password alike for unknown users', async () => {
    await registerUser('bob');
    const byEmail = await call('POST', '/api/v1/auth/login', {
      login: `BOB-${run}@example.com`,
      password: 'correct horse battery',
    });
    expect(byEmail.status).toBe(200);
    const byName = await call('POST', '/api/v1/auth/login', {
      username: `bob-${run}`,
      password: 'correct horse battery',
    });
    expect(byName.status).toBe(200);
    for (const login of [`bob-${run}`, `nobody-${run}`]) {
      const wrong = await call('POST', '/api/v1/auth/login', { login, password: 'wrong password' });
      expect(wrong).toMatchObject({
        status: 401,
        body: { error: { code: 'invalid_credentials' } },
      });
    }
  });

  it('locks an account after repeated wrong passwords, with Retry-After', async () => {
    await registerUser('carol');
    for (let i = 0; i < 3; i++) {
      await call('POST', '/api/v1/auth/login', { login: `carol-${run}`, password: 'wrong one!' });
    }
    const locked = await call('POST', '/api/v1/auth/login', {
      login: `carol-${run}`,
      password: 'correct horse battery',
    });
    expect(locked).toMatchObject({ status: 429, body: { error: { code: 'account_locked' } } });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rotates refresh tokens and revokes the sign-in when a used one comes back', async () => {
    const first = (await registerUser('dave')).body!;
    const second = await call('POST', '/api/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body!.refreshToken).not.toBe(first.refreshToken);
    const replay = await call('POST', '/api/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(replay).toMatchObject({
      status: 401,
      body: { error: { code: 'refresh_token_reused' } },
    });
    // The successor was revoked with the family: the thief and the owner both sign in again.
    const successor = await call('POST', '/api/v1/auth/refresh', {
      refreshToken: second.body!.refreshToken,
    });
    expect(successor).toMatchObject({
      status: 401,
      body: { error: { code: 'refresh_token_invalid' } },
    });
    expect(
      (await call('POST', '/api/v1/auth/refresh', { refreshToken: 'sbr_garbage' })).body!.error
        .code,
    ).toBe('refresh_token_invalid');
  });

  it('signs out: the refresh token stops working; signing out twice is fine', async () => {
    const session = (await registerUser('erin')).body!;
    const out = await call('POST', '/api/v1/auth/logout', { refreshToken: session.refreshToken });
    expect(out.status).toBe(204);
    expect(
      (await call('POST', '/api/v1/auth/logout', { refreshToken: session.refreshToken })).status,
    ).toBe(204);
    expect(
      (await call('POST', '/api/v1/auth/refresh', { refreshToken: session.refreshToken })).status,
    ).toBe(401);
  });

  it('reads and edits the own profile, status and settings', async () => {
    const { accessToken } = (await registerUser('fay')).body!;
    expect((await call('GET', '/api/v1/users/me')).status).toBe(401);
    const patched = await call(
      'PATCH',
      '/api/v1/users/me',
      {
        displayName: 'Fay F.',
        avatarUrl: 'https://example.com/fay.png',
        theme: 'dark',
        notificationSettings: { level: 'mentions' },
        customStatus: { emoji: '🌴', text: 'on holiday', expiresAt: '2999-01-01T00:00:00Z' },
      },
      accessToken,
    );
    expect(patched.status).toBe(200);
    await call(
      'PATCH',
      '/api/v1/users/me',
      { notificationSettings: { email: false } },
      accessToken,
    );
    const me = (await call('GET', '/api/v1/users/me', undefined, accessToken)).body!;
    expect(me).toMatchObject({
      displayName: 'Fay F.',
      theme: 'dark',
      notificationSettings: { level: 'mentions', email: false },
      customStatus: { emoji: '🌴', text: 'on holiday' },
    });
    const status = await call(
      'PUT',
      '/api/v1/users/me/status',
      { statusMessage: 'focus' },
      accessToken,
    );
    expect(status.body).toMatchObject({ statusMessage: 'focus' });
    expect((await call('PATCH', '/api/v1/users/me', { theme: 'neon' }, accessToken)).status).toBe(
      400,
    );
    expect((await call('PATCH', '/api/v1/users/me', { isBot: true }, accessToken)).status).toBe(
      400,
    );
  });

  it('hides users who share no workspace, and forbids setting another user’s status', async () => {
    const gus = (await registerUser('gus')).body!;
    const hal = (await registerUser('hal')).body!;
    const seen = await call('GET', `/api/v1/users/${hal.user.id}`, undefined, gus.accessToken);
    expect(seen).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const put = await call(
      'PUT',
      `/api/v1/users/${hal.user.id}/status`,
      { statusMessage: 'hacked' },
      gus.accessToken,
    );
    expect(put.status).toBe(403);
  });

  it('issues access tokens the realtime gateway accepts', async () => {
    const { accessToken, user } = (await registerUser('ida')).body!;
    const socket = await connectWs(`${t.wsUrl}/ws`);
    const auth = await socket.request({ op: 'auth', token: accessToken });
    expect(auth).toMatchObject({ success: true, userId: user.id });
    socket.close();
  });
});
