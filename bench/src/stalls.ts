// The load generator's own stalls, second by second: a tail the load generator makes (its event
// loop blocked, its collector pausing it) is measured as the server's latency unless shown apart.
import { PerformanceObserver, performance } from 'node:perf_hooks';

export interface SecondStalls {
  second: number;
  /** Longest a timer of the load generator fired late in that second. */
  maxLagMs: number;
  /** Time the load generator's garbage collector paused it in that second. */
  gcMs: number;
}

/** How often the lag probe fires: often enough to see a stall, cheap enough not to make one. */
const PROBE_MS = 10;

/**
 * Records, per second of a window (second 0 starts the window, as in `WindowSamples`), how late
 * a 10 ms timer fired and how long garbage collections paused the process.
 */
export class StallRecorder {
  private lag: number[] = [];
  private gc: number[] = [];
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private observer: PerformanceObserver | undefined;

  start(at = performance.now()): void {
    this.stopProbes();
    this.lag = [];
    this.gc = [];
    this.startedAt = at;
    let expected = performance.now() + PROBE_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.note(this.lag, expected, Math.max(0, now - expected), Math.max);
      expected = now + PROBE_MS;
    }, PROBE_MS);
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.note(this.gc, entry.startTime, entry.duration, (a, b) => a + b);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): SecondStalls[] {
    this.stopProbes();
    const seconds = Math.max(this.lag.length, this.gc.length);
    const out: SecondStalls[] = [];
    for (let second = 0; second < seconds; second++) {
      out.push({
        second,
        maxLagMs: round(this.lag[second] ?? 0),
        gcMs: round(this.gc[second] ?? 0),
      });
    }
    return out;
  }

  private note(
    into: number[],
    at: number,
    value: number,
    combine: (a: number, b: number) => number,
  ): void {
    const second = Math.floor((at - this.startedAt) / 1000);
    if (second < 0) return;
    while (into.length <= second) into.push(0);
    into[second] = combine(into[second] ?? 0, value);
  }

  private stopProbes(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.observer?.disconnect();
    this.observer = undefined;
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
