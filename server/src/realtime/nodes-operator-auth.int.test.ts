// Who may list the cluster's nodes: an admin-scoped server API key, or the admin password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';

describe(`GET /api/v1/nodes operator access (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.stop());

  const list = (headers: Record<string, string>) =>
    fetch(`${t.url}/api/v1/nodes`, { headers }).then((r) => r.status);

  it('accepts an admin API key and refuses keys without the admin scope', async () => {
    const admin = await t.server.push.createApiKey({ name: 'ops', scopes: ['admin'] });
    const publisher = await t.server.push.createApiKey({ name: 'app', scopes: ['publish'] });
    expect(await list({ authorization: `Bearer ${admin.key}` })).toBe(200);
    expect(await list({ authorization: `Bearer ${publisher.key}` })).toBe(403);
    expect(await list({ authorization: 'Bearer sbk_000000000000_nope' })).toBe(401);
  });

  it('still accepts the admin password, and nothing else', async () => {
    expect(await list({ 'x-admin-password': t.config.ADMIN_PASSWORD })).toBe(200);
    expect(await list({ 'x-admin-password': 'wrong-password' })).toBe(403);
    expect(await list({})).toBe(401);
  });
});
