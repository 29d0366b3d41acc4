// The behaviour both rate limiters must have; each implementation's test runs it with a fake clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimiter } from './rate-limiter.js';

export function describeRateLimiterContract(
  name: string,
  make: (now: () => number) => Promise<RateLimiter>,
) {
  describe(`RateLimiter contract: ${name}`, () => {
    // Start at a window boundary so the arithmetic below is exact.
    let clock = 60_000 * 16_000_000;
    let limiter: RateLimiter;
    let key: string;
    beforeEach(async () => {
      clock = 60_000 * 16_000_000;
      limiter = await make(() => clock);
      key = `k${Math.random().toString(36).slice(2)}`;
    });
    afterEach(() => limiter.close());

    it('allows up to the limit in a window, then refuses with a wait', async () => {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await limiter.hit(key, 3, 60_000));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
      expect(results[3]!.retryAfterMs).toBeGreaterThan(0);
      expect(results[3]!.retryAfterMs).toBeLessThanOrEqual(120_000);
    });

    it('slides: the previous window counts by how much of it still overlaps', async () => {
      for (let i = 0; i < 4; i++) await limiter.hit(key, 4, 60_000);
      // A quarter into the next window, 3/4 of the previous 4 hits still count: 3 of 4 used.
      clock += 60_000 + 15_000;
      expect((await limiter.hit(key, 4, 60_000)).allowed).toBe(true);
      expect((await limiter.hit(key, 4, 60_000)).allowed).toBe(false);
      // Two windows later nothing counts any more.
      clock += 120_000;
      expect((await limiter.hit(key, 4, 60_000)).remaining).toBe(3);
    });

    it('keeps keys apart and forgets a key on reset', async () => {
      await limiter.hit(key, 1, 60_000);
      expect((await limiter.hit(key, 1, 60_000)).allowed).toBe(false);
      expect((await limiter.hit(`${key}-other`, 1, 60_000)).allowed).toBe(true);
      await limiter.reset(key, 60_000);
      expect((await limiter.hit(key, 1, 60_000)).allowed).toBe(true);
    });
  });
}
