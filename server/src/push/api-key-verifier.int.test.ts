// API key verification across nodes: a revoke is immediate where it happens and reaches other
// nodes when their short cache expires; use is recorded without a query per request.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../http/index.js';
import { apiKeys } from '../store/index.js';
import { makeTestStore, target, testLogger, type TestStore } from '../test-support/services.js';
import { ApiKeyVerifier } from './api-key-verifier.js';
import { createApiKey } from './commands/create-api-key.js';
import { listApiKeys } from './commands/list-api-keys.js';
import { revokeApiKey } from './commands/revoke-api-key.js';

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('the key was accepted');
}

describe(`API key verification (${target})`, () => {
  let testStore: TestStore;
  beforeAll(async () => {
    testStore = await makeTestStore();
  });
  afterAll(() => testStore.cleanup());

  it('stores only a hash, never the key', async () => {
    const created = await createApiKey(testStore.store.db, { name: 'hash check' });
    const [row] = await testStore.store.db.select().from(apiKeys).where(eq(apiKeys.id, created.id));
    expect(row!.keyHash).toMatch(/^[0-9a-f]{64}$/);
    // The secret is base64url, which may itself contain `_`: take everything after the prefix.
    const secret = /^sbk_[0-9a-f]{12}_(.+)$/.exec(created.key)?.[1] ?? '';
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(created.scopes).toEqual(['publish', 'push', 'broadcast']);
  });

  it('a revoke is immediate on its node and reaches another node once its cache expires', async () => {
    const db = testStore.store.db;
    let clock = 1_000_000;
    const now = () => clock;
    const here = new ApiKeyVerifier({ db, logger: testLogger, cacheMs: 5000, now });
    const there = new ApiKeyVerifier({ db, logger: testLogger, cacheMs: 5000, now });
    const { key, id } = await createApiKey(db, { name: 'two nodes' });
    const header = `Bearer ${key}`;
    await expect(here.authenticate(header, 'publish')).resolves.toMatchObject({ id });
    await expect(there.authenticate(header, 'publish')).resolves.toMatchObject({ id });

    expect(await revokeApiKey(db, id)).toMatchObject({ id, revokedAt: expect.any(Date) });
    here.forget(id);
    expect((await refusal(here.authenticate(header, 'publish'))).message).toBe(
      'The API key has been revoked.',
    );
    // The other node trusts its cached row until it expires, then reads the revocation.
    await expect(there.authenticate(header, 'publish')).resolves.toMatchObject({ id });
    clock += 5001;
    expect((await refusal(there.authenticate(header, 'publish'))).code).toBe('unauthorized');
  });

  it('refuses a missing scope with forbidden and unknown keys with unauthorized', async () => {
    const db = testStore.store.db;
    const verifier = new ApiKeyVerifier({ db, logger: testLogger });
    const { key } = await createApiKey(db, { name: 'narrow', scopes: ['broadcast'] });
    const denied = await refusal(verifier.authenticate(`Bearer ${key}`, 'push'));
    expect(denied.code).toBe('forbidden');
    expect(denied.status).toBe(403);
    const unknown = await refusal(
      verifier.authenticate(`Bearer sbk_000000000000_${'x'.repeat(43)}`, 'push'),
    );
    expect(unknown.code).toBe('unauthorized');
    expect(unknown.headers).toMatchObject({ 'www-authenticate': expect.stringMatching(/^Bearer/) });
  });

  it('records last use at most once per interval', async () => {
    const db = testStore.store.db;
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const verifier = new ApiKeyVerifier({
      db,
      logger: testLogger,
      touchIntervalMs: 60_000,
      now: () => clock,
    });
    const { key, id } = await createApiKey(db, { name: 'used' });
    const lastUsed = async () => (await listApiKeys(db)).find((k) => k.id === id)?.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    await verifier.authenticate(`Bearer ${key}`, 'publish');
    const first = new Date(clock);
    await expect.poll(lastUsed, { timeout: 10_000 }).toEqual(first);
    clock += 1000;
    await verifier.authenticate(`Bearer ${key}`, 'publish');
    clock += 60_000;
    await verifier.authenticate(`Bearer ${key}`, 'publish');
    await expect.poll(lastUsed, { timeout: 10_000 }).toEqual(new Date(clock));
  });

  it('revokes by id or by listed prefix, keeps the first revocation time, and lists keys', async () => {
    const db = testStore.store.db;
    const created = await createApiKey(db, { name: 'listed', scopes: ['push', 'push'] });
    expect(created.scopes).toEqual(['push']);
    const first = await revokeApiKey(db, created.prefix);
    const again = await revokeApiKey(db, created.id);
    expect(again!.revokedAt).toEqual(first!.revokedAt);
    expect(await revokeApiKey(db, 'sbk_ffffffffffff')).toBeUndefined();
    const listed = (await listApiKeys(db)).find((k) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      name: 'listed',
      prefix: created.prefix,
      scopes: ['push'],
      createdAt: created.createdAt,
      lastUsedAt: null,
      revokedAt: first!.revokedAt,
    });
    expect(listed).not.toHaveProperty('keyHash');
  });
});
