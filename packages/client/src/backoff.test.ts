// Reconnect delays: exponential growth, the cap, and jitter within the bound.
import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveReconnectOptions } from './backoff.js';

describe('backoffDelay', () => {
  const options = resolveReconnectOptions({
    initialDelayMs: 100,
    maxDelayMs: 1000,
    factor: 2,
    jitter: 0,
  });

  it('grows by the factor until the maximum', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, options, () => 0.99));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('with full jitter scales the bound by the random number', () => {
    const full = { ...options, jitter: 1 };
    expect(backoffDelay(2, full, () => 0)).toBe(400);
    expect(backoffDelay(2, full, () => 0.5)).toBe(200);
    expect(backoffDelay(2, full, () => 0.75)).toBe(100);
  });

  it('with partial jitter keeps the delay in the upper part of the bound', () => {
    const half = { ...options, jitter: 0.5 };
    for (let i = 0; i < 50; i++) {
      const delay = backoffDelay(3, half, Math.random);
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });

  it('refuses nonsense options', () => {
    expect(() => resolveReconnectOptions({ factor: 0.5 })).toThrow(RangeError);
    expect(() => resolveReconnectOptions({ jitter: 2 })).toThrow(RangeError);
    expect(() => resolveReconnectOptions({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(
      RangeError,
    );
  });
});
