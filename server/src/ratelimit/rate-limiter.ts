// Rate limits: a sliding-window counter per key (the previous fixed window's count weighted by
// how much of it still overlaps the sliding window, plus the current one). Memory for one
// process, Redis for a cluster; both pass rate-limiter.contract.ts.

export interface RateLimitResult {
  readonly allowed: boolean;
  readonly limit: number;
  /** Hits left in the window after this one (0 when refused). */
  readonly remaining: number;
  /** Milliseconds until the window frees up completely. */
  readonly resetMs: number;
  /** Milliseconds to wait before a refused hit can succeed (0 when allowed). */
  readonly retryAfterMs: number;
}

export interface RateLimiter {
  readonly kind: 'memory' | 'redis';
  /** Counts one hit against `key`, unless that would exceed `limit` per `windowMs`. */
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  /** Forgets a key's hits in windows of `windowMs` (e.g. failed logins after a success). */
  reset(key: string, windowMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The decision both implementations make from the two window counts. */
export function decide(
  previous: number,
  current: number,
  limit: number,
  windowMs: number,
  elapsedMs: number,
): { allowed: boolean; estimate: number } {
  const estimate = previous * (1 - elapsedMs / windowMs) + current;
  return { allowed: estimate + 1 <= limit, estimate };
}

export function result(
  allowed: boolean,
  previous: number,
  current: number,
  limit: number,
  windowMs: number,
  elapsedMs: number,
): RateLimitResult {
  const estimate = previous * (1 - elapsedMs / windowMs) + current;
  const remaining = Math.max(0, Math.floor(limit - estimate));
  // The previous window stops counting when the current one ends; the current one a window later.
  const resetMs = Math.ceil(windowMs - elapsedMs + (current > 0 ? windowMs : 0));
  let retryAfterMs = 0;
  if (!allowed) {
    if (current + 1 > limit) {
      // The current window alone is full: wait for it to become the previous one and then for
      // enough of it to slide out.
      const next = (current + 1 - limit) / Math.max(1, current);
      retryAfterMs = Math.ceil(windowMs - elapsedMs + next * windowMs);
    } else {
      // The previous window's tail is what is left over: wait until enough of it slid out.
      const needed = 1 - (limit - current - 1) / previous;
      retryAfterMs = Math.max(1, Math.ceil(needed * windowMs - elapsedMs));
    }
  }
  return { allowed, limit, remaining: allowed ? remaining : 0, resetMs, retryAfterMs };
}

export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const counts = new Map<string, { window: number; current: number; previous: number }>();
  let sweeps = 0;
  return {
    kind: 'memory',
    hit(key, limit, windowMs) {
      const t = now();
      const window = Math.floor(t / windowMs);
      const elapsed = t - window * windowMs;
      let entry = counts.get(key);
      if (!entry || entry.window < window - 1) {
        entry = { window, current: 0, previous: 0 };
      } else if (entry.window === window - 1) {
        entry = { window, current: 0, previous: entry.current };
      }
      counts.set(key, entry);
      const { allowed } = decide(entry.previous, entry.current, limit, windowMs, elapsed);
      if (allowed) entry.current += 1;
      // Bounded memory: now and then drop keys whose windows are over.
      if (++sweeps % 10_000 === 0) {
        for (const [k, e] of counts) if (e.window < window - 1) counts.delete(k);
      }
      return Promise.resolve(
        result(allowed, entry.previous, entry.current, limit, windowMs, elapsed),
      );
    },
    reset(key) {
      counts.delete(key);
      return Promise.resolve();
    },
    close() {
      counts.clear();
      return Promise.resolve();
    },
  };
}
