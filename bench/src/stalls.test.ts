import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { StallRecorder } from './stalls.js';

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a busy event loop, as a stalled load generator has
  }
}

describe('StallRecorder', () => {
  it('puts a blocked event loop in the second it happened', async () => {
    const stalls = new StallRecorder();
    stalls.start(performance.now() - 1000); // the window began a second ago
    await new Promise((resolve) => setTimeout(resolve, 30));
    blockFor(120);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const seconds = stalls.stop();
    expect(seconds.length).toBeGreaterThanOrEqual(2);
    expect(seconds[0]).toEqual({ second: 0, maxLagMs: 0, gcMs: 0 });
    expect(seconds[1]?.maxLagMs).toBeGreaterThanOrEqual(100);
  });

  it('stops probing when stopped', async () => {
    const stalls = new StallRecorder();
    stalls.start();
    stalls.stop();
    blockFor(60);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stalls.stop()).toEqual([]);
  });
});
