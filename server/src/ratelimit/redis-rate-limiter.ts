// The sliding-window rate limiter in Redis: one round trip per hit (a Lua script reads both
// windows and counts the hit only when it is allowed), shared by every node.
import type { Redis } from 'ioredis';
import { result, type RateLimiter } from './rate-limiter.js';

// The same rule as `decide` in rate-limiter.ts.
// KEYS: current window, previous window. ARGV: limit, window ms, elapsed ms.
const HIT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
if previous * (1 - elapsed / window) + current + 1 > limit then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], window * 2)
return {1, current, previous}
`;

type WithHit = Redis & {
  switchboardRateHit(
    current: string,
    previous: string,
    limit: number,
    windowMs: number,
    elapsedMs: number,
  ): Promise<[number, number, number]>;
};

export function createRedisRateLimiter(
  redis: Redis,
  options: { keyPrefix?: string; now?: () => number; ownsConnection?: boolean } = {},
): RateLimiter {
  const prefix = options.keyPrefix ?? 'sb:rl:';
  const now = options.now ?? Date.now;
  if (!('switchboardRateHit' in redis)) {
    redis.defineCommand('switchboardRateHit', { numberOfKeys: 2, lua: HIT });
  }
  const client = redis as WithHit;
  // The hash tag keeps both windows of a key in one slot on Redis Cluster.
  const keyOf = (key: string, window: number) => `${prefix}{${key}}:${window}`;
  return {
    kind: 'redis',
    async hit(key, limit, windowMs) {
      const t = now();
      const window = Math.floor(t / windowMs);
      const elapsed = t - window * windowMs;
      const [allowed, current, previous] = await client.switchboardRateHit(
        keyOf(key, window),
        keyOf(key, window - 1),
        limit,
        windowMs,
        elapsed,
      );
      return result(allowed === 1, previous, current, limit, windowMs, elapsed);
    },
    async reset(key, windowMs) {
      const window = Math.floor(now() / windowMs);
      await redis.del(keyOf(key, window), keyOf(key, window - 1));
    },
    close() {
      if (options.ownsConnection) redis.disconnect();
      return Promise.resolve();
    },
  };
}
