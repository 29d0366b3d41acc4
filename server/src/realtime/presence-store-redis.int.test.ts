// The Redis PresenceStore against a real Redis: the shared contract, and a node with more users
// than one script call drops.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { realRedisUrl, skipReason } from '../test-support/services.js';
import { createRedisPresenceStore } from './presence-store-redis.js';
import { describePresenceStoreContract } from './presence-store.contract.js';

function makeStore(batchSize?: number) {
  const redis = new Redis(realRedisUrl!);
  const keyPrefix = `sbtest:${randomBytes(6).toString('hex')}:`;
  const store = createRedisPresenceStore({
    redis,
    keyPrefix,
    ...(batchSize ? { batchSize } : {}),
  });
  return {
    store,
    cleanup: async () => {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

describe.skipIf(!realRedisUrl)(
  `Redis presence store (${realRedisUrl ? 'real Redis' : `skipped: ${skipReason('Redis')}`})`,
  () => {
    describePresenceStoreContract('redis', () => Promise.resolve(makeStore()));

    it('drops a node with more users than one batch over several calls', async () => {
      const { store, cleanup } = makeStore(7);
      try {
        const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
        await store.apply('n1', new Map(users.map((id) => [id, 1])), 60_000);
        await store.apply('n2', new Map([['u0', 1]]), 60_000);
        const gone = await store.removeNode('n1');
        expect(gone.map((t) => t.userId).sort()).toEqual(users.slice(1).sort());
        const states = await store.query(users);
        expect([...states.values()].filter((s) => s.online)).toHaveLength(1);
      } finally {
        await cleanup();
      }
    });
  },
);
