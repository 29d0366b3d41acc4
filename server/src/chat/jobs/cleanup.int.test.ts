// Chat clean-up: expired Idempotency-Key responses and refresh tokens go, fresh ones stay.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { makeChatUser } from '../test-support/api.js';
import { runChatCleanup } from './cleanup.js';

describe(`chat clean-up job (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  it('deletes day-old idempotency keys and expired refresh tokens only', async () => {
    const user = await makeChatUser(t.server, 'cleanup');
    const db = t.server.store.db;
    await db.execute(sql`
      insert into chat.idempotency_keys (user_id, key, request_hash, status, response, created_at)
      values (${user.id}, 'old', 'h', 201, '{}'::jsonb, now() - interval '25 hours'),
             (${user.id}, 'new', 'h', 201, '{}'::jsonb, now())`);
    await db.execute(sql`
      insert into chat.refresh_tokens (id, user_id, family_id, token_hash, expires_at)
      values (gen_random_uuid(), ${user.id}, gen_random_uuid(), 'expired-hash', now() - interval '1 minute')`);
    const deleted = await runChatCleanup(db);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const keys = rowsOf<{ key: string }>(
      await db.execute(sql`select key from chat.idempotency_keys where user_id = ${user.id}`),
    ).map((r) => r.key);
    expect(keys).toEqual(['new']);
    const tokens = rowsOf<{ token_hash: string }>(
      await db.execute(sql`select token_hash from chat.refresh_tokens where user_id = ${user.id}`),
    );
    // The sign-up's own token is still valid and stays; the expired one is gone.
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.token_hash).not.toBe('expired-hash');
    const refreshed = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ refreshToken: user.refreshToken }),
    });
    expect(refreshed.statusCode).toBe(200);
  });
});
