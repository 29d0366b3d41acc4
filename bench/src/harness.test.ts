import { describe, expect, it } from 'vitest';
import {
  cpuDelta,
  DeliveryTally,
  latencyOf,
  numberAfter,
  Receiver,
  saturated,
  windowOf,
  WindowSamples,
} from './harness.js';

describe('numberAfter', () => {
  it('reads the send time out of each system’s event frame', () => {
    const frames = [
      '{"op":"event","topic":"bench.a","seq":7,"type":"bench","t":1234.5678,"n":42}',
      '42["e",{"t":1234.5678,"n":42}]',
      '{"op":"event","topic":"bench.a","data":{"t":1234.5678,"n":42}}',
    ];
    for (const frame of frames) {
      expect(numberAfter(Buffer.from(frame), Buffer.from('"t":'))).toBe(1234.5678);
      expect(numberAfter(Buffer.from(frame), Buffer.from('"n":'))).toBe(42);
    }
  });

  it('is NaN when the key is missing or has no number', () => {
    expect(numberAfter(Buffer.from('{"topic":"x"}'), Buffer.from('"t":'))).toBeNaN();
    expect(numberAfter(Buffer.from('{"t":"x"}'), Buffer.from('"t":'))).toBeNaN();
  });
});

describe('latencyOf', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(latencyOf(sorted)).toEqual({
      samples: 100,
      p50Ms: 50,
      p90Ms: 90,
      p99Ms: 99,
      maxMs: 100,
    });
    expect(latencyOf(new Float64Array(0)).p99Ms).toBeNull();
  });
});

describe('WindowSamples', () => {
  it('gives the percentiles of the window and of each second it was sent in', () => {
    const samples = new WindowSamples();
    samples.start(10, 1000);
    samples.add(900, 40); // sent just before the window: its first second
    samples.add(1500, 2);
    samples.add(2999, 30);
    samples.add(2000, 10);
    samples.add(4000, 5);
    const latency = samples.stop();
    expect(latency).toMatchObject({ samples: 5, p50Ms: 10, maxMs: 40 });
    expect(latency.bySecond).toEqual([
      { second: 0, samples: 2, p50Ms: 2, p99Ms: 40, maxMs: 40 },
      { second: 1, samples: 2, p50Ms: 10, p99Ms: 30, maxMs: 30 },
      { second: 3, samples: 1, p50Ms: 5, p99Ms: 5, maxMs: 5 },
    ]);
  });

  it('tells the wall-clock time of its second 0', () => {
    const samples = new WindowSamples();
    const before = Date.now();
    samples.start(1, performance.now() - 2000);
    const startedAt = Date.parse(samples.stop().startedAt);
    expect(startedAt).toBeGreaterThanOrEqual(before - 2000 - 5);
    expect(startedAt).toBeLessThanOrEqual(Date.now() - 2000 + 5);
  });

  it('keeps no more samples than it was started with, and none outside start and stop', () => {
    const samples = new WindowSamples();
    samples.add(0, 1);
    expect(samples.stop().samples).toBe(0);
    samples.start(2, 0);
    for (let i = 0; i < 5; i++) samples.add(i, i);
    expect(samples.stop()).toMatchObject({ samples: 2, maxMs: 1 });
    samples.add(0, 1);
    expect(samples.stop().samples).toBe(0);
  });
});

describe('Receiver', () => {
  it('counts events, samples latency only while sampling and flags frames without a time', () => {
    const receiver = new Receiver();
    receiver.onEvent(Buffer.from(`{"t":${performance.now()},"n":1}`));
    receiver.startSampling(10);
    receiver.onEvent(Buffer.from(`{"t":${performance.now() - 5},"n":2}`));
    receiver.onEvent(Buffer.from('{"n":3}'));
    const latency = receiver.stopSampling();
    expect(receiver.received).toBe(3);
    expect(receiver.malformed).toBe(1);
    expect(latency.samples).toBe(1);
    expect(latency.p50Ms).toBeGreaterThanOrEqual(5);
  });

  it('counts only closes it did not ask for', () => {
    const receiver = new Receiver();
    receiver.onClose(1006);
    receiver.closing = true;
    receiver.onClose(1000);
    expect(receiver.unexpectedCloses).toBe(1);
  });
});

describe('windowOf', () => {
  it('turns CPU seconds into µs per delivery and percent of a core', () => {
    const w = windowOf(
      { at: 0, servers: 10, redis: 1, client: 5, received: 0, serverWait: 1, clientWait: 0 },
      {
        at: 10_000,
        servers: 12,
        redis: 1.5,
        client: 14.5,
        received: 200_000,
        serverWait: 4,
        clientWait: 0.5,
      },
    );
    expect(w.deliveriesPerSecond).toBe(20_000);
    expect(w.serverCpuUsPerDelivery).toBe(10);
    expect(w.serverCpuPercent).toBe(20);
    expect(w.redisCpuPercent).toBe(5);
    expect(w.loadGeneratorCpuPercent).toBe(95);
    expect(w.serverRunQueueWaitPercent).toBe(30);
    expect(w.loadGeneratorRunQueueWaitPercent).toBe(5);
    expect(saturated(w)).toBe('load generator (core 0)');
  });
});

describe('DeliveryTally', () => {
  it('counts lost and duplicate deliveries per subscriber, in either order of ack and arrival', () => {
    const tally = new DeliveryTally(2);
    tally.delivered(0, 0); // before its acknowledgement
    tally.committed(0);
    tally.delivered(1, 0);
    tally.committed(1);
    tally.delivered(0, 1);
    tally.delivered(0, 1); // twice to subscriber 0
    expect(tally.complete()).toBe(false); // subscriber 1 still lacks event 1
    tally.delivered(1, 1);
    expect(tally.complete()).toBe(true);
    tally.committed(5000); // grows past its first size
    expect(tally.summary()).toEqual({
      committed: 3,
      deliveries: 5,
      lost: 2,
      duplicates: 1,
      deliveredButNotAcknowledged: 0,
    });
  });

  it('keeps deliveries of unacknowledged or unreadable events apart', () => {
    const tally = new DeliveryTally(1);
    tally.delivered(0, 7);
    tally.delivered(0, Number.NaN);
    tally.committed(7);
    tally.committed(7);
    expect(tally.summary()).toMatchObject({
      committed: 1,
      lost: 0,
      deliveredButNotAcknowledged: 0,
    });
    tally.delivered(0, 9);
    expect(tally.unknown).toBe(1);
    expect(tally.summary().deliveredButNotAcknowledged).toBe(1);
  });
});

describe('cpuDelta', () => {
  it('sums what each process used, counting processes that started in between in full', () => {
    const from = new Map([
      [1, 10],
      [2, 5],
      [3, 1],
    ]);
    const to = new Map([
      [1, 12],
      [2, 5.5],
      [4, 0.25],
    ]);
    expect(cpuDelta(from, to)).toBeCloseTo(2.75, 9);
  });
});
