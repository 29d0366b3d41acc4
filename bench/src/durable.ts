// (D) the durable pipeline: events committed through POST /api/v1/publish on durable topics (the
// outbox, answered after the commit) and delivered to WebSocket subscribers by the fast path.
// Measures the closed-loop maximum, commit-to-delivery latency at a fixed rate, every event's
// arrival, and pgbench's single-row inserts on the same database as the yardstick.
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  cpuDelta,
  DeliveryTally,
  latencyOf,
  numberAfter,
  Receiver,
  round,
  snapshot,
  startPacer,
  until,
  windowOf,
  type Latency,
  type Snapshot,
} from './harness.js';
import { checkPgbench, PGBENCH_SETUP, pgbenchScript, runPgbench } from './pgbench.js';
import { cpuSecondsByCommand, delay } from './procs.js';
import {
  histogramQuantile,
  readHistogram,
  subtractHistogram,
  type Histogram,
} from './prometheus.js';
import type { Result } from './scenarios.js';
import type { SwitchboardCluster, SwitchboardSystem } from './systems/switchboard.js';
import type { Client, RunContext } from './systems/system.js';

const N_KEY = Buffer.from('"n":');
/** Longest wait for every acknowledged event to arrive after a phase stops publishing. */
const DRAIN_MS = 15_000;
/** The targets the scenario reports against. */
export const DURABLE_TARGETS = { p99Ms: 25, pgbenchRatio: 0.5 } as const;

export interface DurableOptions {
  topics: number;
  subscribers: number;
  /** Concurrent closed-loop publishers; one saturation window per value. */
  publishers: readonly number[];
  /** Events per second in the fixed-rate window. */
  rate: number;
  warmupSeconds: number;
  windowSeconds: number;
  saturationSeconds: number;
  pgbench: { command: string; clients: number; threads: number; seconds: number };
  /** Extra server configuration the nodes ran with (recorded in the result). */
  serverEnv: Readonly<Record<string, string>>;
}

/** POSTs durable events and says when each is acknowledged, with its time to the answer. */
class DurablePublisher {
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  inFlight = 0;
  acknowledged = 0;
  errors = 0;
  private readonly firstErrors: string[] = [];
  /** Send-to-answer times (ms) while sampling. */
  private samples: number[] | undefined;

  constructor(base: string, apiKey: string, maxSockets: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
    this.url = new URL('/api/v1/publish', base);
    this.headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  }

  /** Publishes event `n` on `topic`; resolves true once the server answered 200 (committed). */
  publish(topic: string, n: number): Promise<boolean> {
    const sentAt = performance.now();
    const body = `{"topic":"${topic}","event":{"type":"bench","t":${sentAt},"n":${n}}}`;
    this.inFlight++;
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean, error?: string) => {
        this.inFlight--;
        if (ok) {
          this.acknowledged++;
          this.samples?.push(performance.now() - sentAt);
        } else {
          this.errors++;
          if (error && this.firstErrors.length < 5) this.firstErrors.push(error);
        }
        resolve(ok);
      };
      const req = request(
        this.url,
        { method: 'POST', agent: this.agent, headers: this.headers },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            if (res.statusCode !== 200) text += chunk.toString('utf8');
          });
          res.on('end', () =>
            res.statusCode === 200
              ? finish(true)
              : finish(false, `HTTP ${res.statusCode ?? '?'}: ${text.slice(0, 300)}`),
          );
          res.on('error', (err) => finish(false, err.message));
        },
      );
      req.on('error', (err) => finish(false, err.message));
      req.end(body);
    });
  }

  startSampling(): void {
    this.samples = [];
  }

  stopSampling(): Latency {
    const taken = Float64Array.from(this.samples ?? []).sort();
    this.samples = undefined;
    return latencyOf(taken);
  }

  errorMessages(): string[] {
    return [...this.firstErrors];
  }

  close(): void {
    this.agent.destroy();
  }
}

interface Mark {
  at: Snapshot;
  postgres: Map<number, number>;
  acknowledged: number;
  errors: number;
}

function mark(cluster: SwitchboardCluster, receiver: Receiver, publisher: DurablePublisher): Mark {
  return {
    at: snapshot(cluster, receiver),
    postgres: cpuSecondsByCommand('postgres'),
    acknowledged: publisher.acknowledged,
    errors: publisher.errors,
  };
}

/** Rates and CPU of one window, per committed event. */
function windowMetrics(from: Mark, to: Mark, subscribers: number) {
  const w = windowOf(from.at, to.at);
  const committed = to.acknowledged - from.acknowledged;
  const serverSeconds = to.at.servers - from.at.servers;
  const postgresSeconds = cpuDelta(from.postgres, to.postgres);
  const perEvent = (seconds: number) =>
    committed > 0 ? round((seconds * 1e6) / committed, 1) : null;
  return {
    seconds: w.seconds,
    committed,
    committedPerSecond: Math.round(committed / w.seconds),
    deliveries: w.deliveries,
    deliveriesPerSecond: w.deliveriesPerSecond,
    deliveredEventsPerSecond: Math.round(w.deliveriesPerSecond / subscribers),
    publishErrors: to.errors - from.errors,
    serverCpuPercent: w.serverCpuPercent,
    serverCpuUsPerEvent: perEvent(serverSeconds),
    redisCpuPercent: w.redisCpuPercent,
    postgresCpuPercent: round((postgresSeconds / w.seconds) * 100, 1),
    postgresCpuUsPerEvent: perEvent(postgresSeconds),
    loadGeneratorCpuPercent: w.loadGeneratorCpuPercent,
    serverRunQueueWaitPercent: w.serverRunQueueWaitPercent,
    loadGeneratorRunQueueWaitPercent: w.loadGeneratorRunQueueWaitPercent,
  };
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}

/** p50/p99 in ms of what a server histogram observed between two scrapes. */
function serverQuantiles(
  before: string,
  after: string,
  name: string,
  labels: Record<string, string> = {},
) {
  const later = readHistogram(after, name, labels);
  if (!later) return null;
  const h: Histogram = subtractHistogram(later, readHistogram(before, name, labels));
  const ms = (q: number) => {
    const v = histogramQuantile(h, q);
    return v === null ? null : round(v * 1000, 2);
  };
  return {
    count: h.count,
    p50Ms: ms(0.5),
    p99Ms: ms(0.99),
    meanMs: h.count > 0 ? round((h.sum / h.count) * 1000, 2) : null,
  };
}

/** The server's own view of a window: its HTTP, outbox and delivery histograms. */
function serverView(before: string, after: string) {
  return {
    httpPublish: serverQuantiles(before, after, 'gateway_http_request_duration_seconds', {
      route: '/api/v1/publish',
    }),
    outboxCommitToPublishFast: serverQuantiles(before, after, 'outbox_commit_to_publish_seconds', {
      path: 'fast',
    }),
    outboxCommitToPublishWorker: serverQuantiles(
      before,
      after,
      'outbox_commit_to_publish_seconds',
      { path: 'worker' },
    ),
    publishToSocket: serverQuantiles(before, after, 'gateway_delivery_latency_seconds'),
  };
}

/**
 * How long the events a phase wrote took from their commit to the commit of their processed mark
 * (by the fast path, or by a relay worker that took them over): the server's histogram between
 * `before` and a scrape taken once no event of the phase has work left.
 */
async function processedLag(databaseUrl: string, http: string, afterId: number, before: string) {
  const unprocessed = () =>
    Number(psql(databaseUrl, `select count(*) from core.outbox_work where event_id > ${afterId}`));
  const deadline = performance.now() + DRAIN_MS;
  let left = unprocessed();
  while (left > 0 && performance.now() < deadline) {
    await delay(250);
    left = unprocessed();
  }
  const lag = serverQuantiles(before, await scrape(http), 'outbox_commit_to_processed_seconds');
  return {
    rows: lag?.count ?? 0,
    stillUnprocessed: left,
    p50Ms: lag?.p50Ms ?? null,
    p99Ms: lag?.p99Ms ?? null,
  };
}

function lastOutboxId(databaseUrl: string): number {
  return Number(psql(databaseUrl, 'select coalesce(max(id), 0) from core.outbox'));
}

function psql(databaseUrl: string, sql: string): string {
  return execFileSync('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], {
    encoding: 'utf8',
    stdio: 'pipe',
    timeout: 30_000,
  }).trim();
}

export async function durable(
  system: SwitchboardSystem,
  ctx: RunContext,
  o: DurableOptions,
): Promise<Result> {
  // Before anything starts: a missing pgbench should not cost a minute of measuring first.
  const pgbenchVersion = await checkPgbench(o.pgbench.command);
  const cluster = await system.start(ctx, 1);
  const receiver = new Receiver();
  const tally = new DeliveryTally(o.subscribers);
  const clients: Client[] = [];
  let publisher: DurablePublisher | undefined;
  try {
    const { databaseUrl, apiKey } = cluster;
    const node = cluster.nodes[0]!;
    const http = cluster.httpUrls[0]!;
    if (!databaseUrl || !apiKey) {
      throw new Error(
        '(D) needs PostgreSQL and the HTTP publish API: run with --database=postgres on a build ' +
          'that has `switchboard apikey create`',
      );
    }
    const topics = Array.from({ length: o.topics }, (_, i) => `durable.bench.${i}`);
    for (let s = 0; s < o.subscribers; s++) {
      const client = await system.connect(node, {
        index: s,
        localAddress: `127.0.0.${2 + (s % 16)}`,
        onEvent: (frame) => {
          receiver.onEvent(frame);
          tally.delivered(s, numberAfter(frame, N_KEY));
        },
        onClose: receiver.onClose,
      });
      clients.push(client);
      for (const topic of topics) await client.subscribe(topic);
    }
    const pub = new DurablePublisher(http, apiKey, Math.max(64, ...o.publishers));
    publisher = pub;
    let n = 0;
    const publishNext = (): Promise<boolean> => {
      const i = n++;
      return pub.publish(topics[i % topics.length]!, i).then((ok) => {
        if (ok) tally.committed(i);
        return ok;
      });
    };
    const drain = () => until(() => pub.inFlight === 0 && tally.complete(), DRAIN_MS);
    let phaseStartId = lastOutboxId(databaseUrl);

    // ---- fixed rate: commit-to-delivery latency ------------------------------------------
    const pacer = startPacer(o.rate, () => void publishNext());
    await delay(o.warmupSeconds * 1000);
    const metricsBefore = await scrape(http);
    receiver.startSampling();
    pub.startSampling();
    const fixedFrom = mark(cluster, receiver, pub);
    await delay(o.windowSeconds * 1000);
    const fixedTo = mark(cluster, receiver, pub);
    const commitToDelivery = receiver.stopSampling();
    const apiLatency = pub.stopSampling();
    pacer.stop();
    const fixedDrained = await drain();
    const metricsAfter = await scrape(http);
    const fixedRate = {
      ...windowMetrics(fixedFrom, fixedTo, o.subscribers),
      commitToDelivery,
      publishToAcknowledgement: apiLatency,
      drained: fixedDrained,
      server: serverView(metricsBefore, metricsAfter),
      createdToProcessed: await processedLag(databaseUrl, http, phaseStartId, metricsBefore),
    };

    // ---- closed loop: the most events committed and delivered per second -----------------
    const saturation = [];
    for (const publishers of o.publishers) {
      let running = true;
      const loop = async () => {
        while (running) await publishNext();
      };
      phaseStartId = lastOutboxId(databaseUrl);
      const before = await scrape(http);
      const loops = Array.from({ length: publishers }, loop);
      await delay(1000);
      receiver.startSampling();
      pub.startSampling();
      const from = mark(cluster, receiver, pub);
      await delay(o.saturationSeconds * 1000);
      const to = mark(cluster, receiver, pub);
      const deliveryLatency = receiver.stopSampling();
      const ackLatency = pub.stopSampling();
      running = false;
      await Promise.all(loops);
      const drained = await drain();
      const after = await scrape(http);
      saturation.push({
        publishers,
        ...windowMetrics(from, to, o.subscribers),
        commitToDelivery: deliveryLatency,
        publishToAcknowledgement: ackLatency,
        drained,
        server: serverView(before, after),
        createdToProcessed: await processedLag(databaseUrl, http, phaseStartId, before),
      });
    }
    const delivery = {
      ...tally.summary(),
      publishErrors: pub.errors,
      firstErrors: pub.errorMessages(),
    };

    // ---- pgbench on the same database, the pipeline idle ---------------------------------
    psql(databaseUrl, PGBENCH_SETUP);
    const pgFrom = { at: performance.now(), cpu: cpuSecondsByCommand('postgres') };
    // pgbench's backends exit with it, taking their CPU times along: keep each one's last reading.
    const pgLatest = new Map(pgFrom.cpu);
    const sampler = setInterval(() => {
      for (const [pid, used] of cpuSecondsByCommand('postgres')) pgLatest.set(pid, used);
    }, 250);
    const bench = await runPgbench(o.pgbench.command, databaseUrl, o.topics, o.pgbench).finally(
      () => clearInterval(sampler),
    );
    const pgSeconds = (performance.now() - pgFrom.at) / 1000;
    const pgbench = {
      ...bench,
      version: pgbenchVersion,
      script: pgbenchScript(o.topics).trim().split('\n'),
      postgresCpuPercent: round((cpuDelta(pgFrom.cpu, pgLatest) / pgSeconds) * 100, 1),
    };

    const best = saturation.reduce((a, b) =>
      Math.min(b.committedPerSecond, b.deliveredEventsPerSecond) >
      Math.min(a.committedPerSecond, a.deliveredEventsPerSecond)
        ? b
        : a,
    );
    const durableEventsPerSecond = Math.min(best.committedPerSecond, best.deliveredEventsPerSecond);
    const ratio = round(durableEventsPerSecond / bench.tps, 3);
    const p99 = commitToDelivery.p99Ms;
    return {
      scenario: 'D-durable',
      system: system.name,
      parameters: {
        nodes: 1,
        topics: o.topics,
        topicPattern: 'durable.bench.<i>',
        subscribers: o.subscribers,
        publishers: o.publishers,
        fixedRateEventsPerSecond: o.rate,
        warmupSeconds: o.warmupSeconds,
        windowSeconds: o.windowSeconds,
        saturationSeconds: o.saturationSeconds,
        publishPath: 'HTTP POST /api/v1/publish on durable topics (outbox; answered after commit)',
        serverEnv: o.serverEnv,
        database: psql(databaseUrl, 'select version()'),
        pgbench: {
          clients: o.pgbench.clients,
          threads: o.pgbench.threads,
          seconds: o.pgbench.seconds,
        },
      },
      metrics: {
        fixedRate,
        saturation,
        delivery,
        pgbench,
        targets: {
          p99CommitToDeliveryMs: p99,
          p99TargetMs: DURABLE_TARGETS.p99Ms,
          p99Met: p99 !== null && p99 <= DURABLE_TARGETS.p99Ms,
          durableEventsPerSecond,
          atPublishers: best.publishers,
          pgbenchTps: round(bench.tps, 1),
          ratio,
          ratioTarget: DURABLE_TARGETS.pgbenchRatio,
          ratioMet: ratio >= DURABLE_TARGETS.pgbenchRatio,
        },
        unexpectedCloses: receiver.unexpectedCloses,
        malformedFrames: receiver.malformed,
      },
    };
  } finally {
    receiver.closing = true;
    for (const client of clients) client.close();
    publisher?.close();
    await delay(500);
    await cluster.stop();
  }
}
