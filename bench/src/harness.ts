// The load generator's parts: many client connections, an event receiver that reads the send
// timestamp straight from the frame bytes, a fixed-rate pacer, and CPU snapshots of every process.
import { performance } from 'node:perf_hooks';
import { cpuSeconds, delay, runQueueWaitSeconds } from './procs.js';
import type { Client, Cluster, System } from './systems/system.js';

const T_KEY = Buffer.from('"t":');
const N_KEY = Buffer.from('"n":');
/** Latency samples kept per window; more than any default run produces. */
const MAX_SAMPLES = 2_000_000;

/** Reads the JSON number after `key` without decoding the frame. */
export function numberAfter(frame: Buffer, key: Buffer): number {
  const at = frame.indexOf(key);
  if (at < 0) return Number.NaN;
  const start = at + key.length;
  let end = start;
  while (end < frame.length) {
    const c = frame[end] ?? 0;
    // digits, '.', '-', '+', 'e', 'E'
    if (
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2e ||
      c === 0x2d ||
      c === 0x2b ||
      c === 0x65 ||
      c === 0x45
    )
      end++;
    else break;
  }
  return end > start ? Number(frame.toString('latin1', start, end)) : Number.NaN;
}

/** The body every system publishes: send time (performance.now(), ms) and a sequence number. */
export function eventBody(n: number): string {
  return `{"t":${performance.now()},"n":${n}}`;
}

export class Receiver {
  received = 0;
  unexpectedCloses = 0;
  malformed = 0;
  private samples: Float64Array = new Float64Array(0);
  private sampleCount = 0;
  /** Called with each event's `n` while a closed-loop run tracks completions. */
  onNumber: ((n: number) => void) | undefined;
  closing = false;

  readonly onEvent = (frame: Buffer): void => {
    this.received++;
    const t = numberAfter(frame, T_KEY);
    if (Number.isNaN(t)) {
      this.malformed++;
      return;
    }
    if (this.sampleCount < this.samples.length) {
      this.samples[this.sampleCount++] = performance.now() - t;
    }
    if (this.onNumber) this.onNumber(numberAfter(frame, N_KEY));
  };

  readonly onClose = (_code?: number): void => {
    if (!this.closing) this.unexpectedCloses++;
  };

  startSampling(max = MAX_SAMPLES): void {
    this.samples = new Float64Array(max);
    this.sampleCount = 0;
  }

  /** Stops sampling and returns latency percentiles in milliseconds. */
  stopSampling(): Latency {
    const taken = this.samples.subarray(0, this.sampleCount).slice().sort();
    this.samples = new Float64Array(0);
    this.sampleCount = 0;
    return latencyOf(taken);
  }
}

export interface Latency {
  samples: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Percentiles (nearest rank) of sorted samples. */
export function latencyOf(sorted: Float64Array): Latency {
  const at = (q: number) => {
    if (sorted.length === 0) return null;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return round(sorted[i] ?? 0, 3);
  };
  return {
    samples: sorted.length,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: at(1),
  };
}

/** Latency of the samples sent in one second of a window (second 0 starts the window). */
export interface SecondLatency {
  second: number;
  samples: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface WindowLatency extends Latency {
  /** Wall-clock time of second 0, to line the seconds up with other logs (PostgreSQL's, say). */
  startedAt: string;
  /** The same percentiles per second of the window: where a tail comes from. */
  bySecond: SecondLatency[];
}

/**
 * Latency samples of one measured window, each with the time it was sent, in preallocated typed
 * arrays (nothing allocated per sample on the load generator's hot path). A sample sent before
 * the window started counts in its first second.
 */
export class WindowSamples {
  private values = new Float64Array(0);
  private seconds = new Uint16Array(0);
  private count = 0;
  private startedAt = 0;
  private startedAtWall = 0;

  start(max: number, at = performance.now()): void {
    this.values = new Float64Array(max);
    this.seconds = new Uint16Array(max);
    this.count = 0;
    this.startedAt = at;
    this.startedAtWall = Date.now() - (performance.now() - at);
  }

  /** Ignored when full, and before `start` or after `stop`. */
  add(sentAt: number, ms: number): void {
    if (this.count >= this.values.length) return;
    const second = Math.floor((sentAt - this.startedAt) / 1000);
    this.values[this.count] = ms;
    this.seconds[this.count] = Math.min(0xffff, Math.max(0, second));
    this.count++;
  }

  stop(): WindowLatency {
    const values = this.values.subarray(0, this.count);
    const bySecond = new Map<number, number[]>();
    for (let i = 0; i < this.count; i++) {
      const second = this.seconds[i] ?? 0;
      let list = bySecond.get(second);
      if (!list) bySecond.set(second, (list = []));
      list.push(values[i] ?? 0);
    }
    const overall = latencyOf(values.slice().sort());
    this.values = new Float64Array(0);
    this.seconds = new Uint16Array(0);
    this.count = 0;
    return {
      ...overall,
      startedAt: new Date(this.startedAtWall).toISOString(),
      bySecond: [...bySecond]
        .sort(([a], [b]) => a - b)
        .map(([second, list]) => {
          const { samples, p50Ms, p99Ms, maxMs } = latencyOf(Float64Array.from(list).sort());
          return { second, samples, p50Ms, p99Ms, maxMs };
        }),
    };
  }
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---- connections ------------------------------------------------------------------------

export interface Pool {
  readonly clients: Client[];
  closeAll(): Promise<void>;
}

/**
 * Opens `count` connections, client i to node `nodeOf(i)`, spreading source addresses over
 * 127.0.0.2–127.0.0.(1+addresses), at most `concurrency` handshakes at a time.
 */
export async function connectMany(
  system: System,
  cluster: Cluster,
  receiver: Receiver,
  count: number,
  options: {
    nodeOf?: (i: number) => number;
    concurrency?: number;
    addresses?: number;
    indexBase?: number;
  } = {},
): Promise<Pool> {
  const nodeOf = options.nodeOf ?? ((i: number) => i % cluster.nodes.length);
  const concurrency = options.concurrency ?? 200;
  const addresses = options.addresses ?? 16;
  const clients: Client[] = new Array<Client>(count);
  let next = 0;
  const pool: Pool = {
    clients,
    async closeAll() {
      receiver.closing = true;
      for (const client of clients) client?.close();
      // Give close handshakes a moment so the next system does not inherit half-closed sockets.
      await delay(1000);
    },
  };
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const node = cluster.nodes[nodeOf(i)];
      if (!node) throw new Error(`no node ${nodeOf(i)}`);
      clients[i] = await system.connect(node, {
        index: (options.indexBase ?? 0) + i,
        localAddress: `127.0.0.${2 + (i % addresses)}`,
        onEvent: receiver.onEvent,
        onClose: receiver.onClose,
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } catch (err) {
    await pool.closeAll();
    throw err;
  }
  return pool;
}

/** Runs `fn(i)` for i in [0, count), at most `concurrency` at a time. */
export async function forEachLimited(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

// ---- pacing -----------------------------------------------------------------------------

/** Calls `send(i)` `rate` times a second, catching up after timer lag, until stopped. */
export function startPacer(
  rate: number,
  send: (i: number) => void,
): { sent(): number; stop(): void } {
  const started = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) send(sent++);
  }, 2);
  return { sent: () => sent, stop: () => clearInterval(timer) };
}

// ---- CPU snapshots ----------------------------------------------------------------------

export interface Snapshot {
  at: number;
  servers: number;
  redis: number;
  client: number;
  received: number;
  /** Run-queue wait of the servers' main threads (summed) and of the load generator's. */
  serverWait: number;
  clientWait: number;
}

export function snapshot(cluster: Cluster, receiver: Receiver): Snapshot {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    servers: cluster.servers.reduce((sum, s) => sum + cpuSeconds(s.pid), 0),
    redis: cluster.redis ? cpuSeconds(cluster.redis.pid) : 0,
    client: (usage.user + usage.system) / 1e6,
    received: receiver.received,
    serverWait: cluster.servers.reduce((sum, s) => sum + runQueueWaitSeconds(s.pid), 0),
    clientWait: runQueueWaitSeconds('self'),
  };
}

export interface WindowMetrics {
  seconds: number;
  deliveries: number;
  deliveriesPerSecond: number;
  /** Server CPU time (all server processes, not Redis) per delivery, microseconds. */
  serverCpuUsPerDelivery: number | null;
  /** Percent of one core, all server processes together. */
  serverCpuPercent: number;
  redisCpuPercent: number;
  loadGeneratorCpuPercent: number;
  /**
   * Percent of the window the servers' event loops (summed) and the load generator's spent
   * waiting for a CPU: high values mean the machine, not the system under test, set the pace.
   */
  serverRunQueueWaitPercent: number;
  loadGeneratorRunQueueWaitPercent: number;
}

export function windowOf(from: Snapshot, to: Snapshot): WindowMetrics {
  const seconds = (to.at - from.at) / 1000;
  const deliveries = to.received - from.received;
  const server = to.servers - from.servers;
  return {
    seconds: round(seconds, 2),
    deliveries,
    deliveriesPerSecond: Math.round(deliveries / seconds),
    serverCpuUsPerDelivery: deliveries > 0 ? round((server * 1e6) / deliveries, 2) : null,
    serverCpuPercent: round((server / seconds) * 100, 1),
    redisCpuPercent: round(((to.redis - from.redis) / seconds) * 100, 1),
    loadGeneratorCpuPercent: round(((to.client - from.client) / seconds) * 100, 1),
    serverRunQueueWaitPercent: round(((to.serverWait - from.serverWait) / seconds) * 100, 1),
    loadGeneratorRunQueueWaitPercent: round(((to.clientWait - from.clientWait) / seconds) * 100, 1),
  };
}

/**
 * CPU seconds a group of processes used between two `cpuSecondsByCommand` readings: processes
 * that started in between count in full, ones that exited in between are missed.
 */
export function cpuDelta(from: ReadonlyMap<number, number>, to: ReadonlyMap<number, number>) {
  let seconds = 0;
  for (const [pid, used] of to) seconds += Math.max(0, used - (from.get(pid) ?? 0));
  return seconds;
}

/** Which side ran out of CPU first in a window, if any (90 % of a core counts as saturated). */
export function saturated(w: WindowMetrics): string {
  const generator = w.loadGeneratorCpuPercent >= 90;
  const serverCore = w.serverCpuPercent + w.redisCpuPercent >= 90;
  if (generator && serverCore) return 'both cores';
  if (generator) return 'load generator (core 0)';
  if (serverCore) return 'server core (core 1: servers + Redis)';
  return 'neither';
}

/** Waits until `done()` or `timeoutMs`; returns whether it became true. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await delay(20);
  }
  return true;
}

// ---- delivery accounting ------------------------------------------------------------------

/**
 * Which subscriber received which event (by its `n`), against the events whose publish was
 * acknowledged: counts what never arrived and what arrived twice. A delivery may come before
 * its publish's acknowledgement; either order is counted the same.
 */
export class DeliveryTally {
  private acked = new Uint8Array(1024);
  private readonly seen: Uint8Array[];
  private ackedCount = 0;
  /** Acknowledged events times subscribers, minus first deliveries of acknowledged events. */
  private missing = 0;
  duplicates = 0;
  deliveries = 0;
  /** Deliveries whose `n` was no number the load generator sent. */
  unknown = 0;

  constructor(readonly subscribers: number) {
    this.seen = Array.from({ length: subscribers }, () => new Uint8Array(1024));
  }

  private fit(n: number): void {
    if (n < this.acked.length) return;
    let size = this.acked.length;
    while (size <= n) size *= 2;
    const grow = (a: Uint8Array) => {
      const b = new Uint8Array(size);
      b.set(a);
      return b;
    };
    this.acked = grow(this.acked);
    for (let s = 0; s < this.seen.length; s++) this.seen[s] = grow(this.seen[s]!);
  }

  /** The publish of event `n` was acknowledged (committed). */
  committed(n: number): void {
    this.fit(n);
    if (this.acked[n]) return;
    this.acked[n] = 1;
    this.ackedCount++;
    for (const seen of this.seen) if (!seen[n]) this.missing++;
  }

  delivered(subscriber: number, n: number): void {
    this.deliveries++;
    if (!Number.isInteger(n) || n < 0 || subscriber < 0 || subscriber >= this.subscribers) {
      this.unknown++;
      return;
    }
    this.fit(n);
    const seen = this.seen[subscriber]!;
    if (seen[n]) {
      this.duplicates++;
      return;
    }
    seen[n] = 1;
    if (this.acked[n]) this.missing--;
  }

  /** Every acknowledged event has reached every subscriber. */
  complete(): boolean {
    return this.missing === 0;
  }

  summary(): {
    committed: number;
    deliveries: number;
    lost: number;
    duplicates: number;
    deliveredButNotAcknowledged: number;
  } {
    let unacknowledged = 0;
    for (const seen of this.seen) {
      for (let n = 0; n < seen.length; n++) if (seen[n] && !this.acked[n]) unacknowledged++;
    }
    return {
      committed: this.ackedCount,
      deliveries: this.deliveries,
      lost: this.missing,
      duplicates: this.duplicates,
      deliveredButNotAcknowledged: unacknowledged,
    };
  }
}
