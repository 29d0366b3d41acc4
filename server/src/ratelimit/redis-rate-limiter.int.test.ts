import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { realRedisUrl, skipReason } from '../test-support/services.js';
import { describeRateLimiterContract } from './rate-limiter.contract.js';
import { createRedisRateLimiter } from './redis-rate-limiter.js';

if (realRedisUrl) {
  const url = realRedisUrl;
  describeRateLimiterContract('redis', (now) =>
    Promise.resolve(
      createRedisRateLimiter(new Redis(url), {
        now,
        keyPrefix: `sbtest:rl:${Date.now().toString(36)}:`,
        ownsConnection: true,
      }),
    ),
  );
} else {
  describe(`RateLimiter contract: redis (skipped: ${skipReason('Redis')})`, () => {
    it.skip('needs Redis', () => undefined);
  });
}
