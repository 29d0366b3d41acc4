// The scenarios. Each starts the system, loads it, measures bounded windows and returns result
// rows; the system is always stopped again, whatever happened.
import {
  connectMany,
  eventBody,
  forEachLimited,
  Receiver,
  round,
  saturated,
  snapshot,
  startPacer,
  until,
  windowOf,
  type Pool,
} from './harness.js';
import { delay, rssBytes } from './procs.js';
import type { Cluster, RunContext, System } from './systems/system.js';

export interface Result {
  scenario: string;
  system: string;
  parameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

export interface FanoutOptions {
  subscribers: number;
  nodes: number;
  /** Deliveries per second in the fixed-rate window. */
  rate: number;
  warmupSeconds: number;
  windowSeconds: number;
  saturationSeconds: number;
  /** Messages in flight in the closed-loop saturation window. */
  inflight: number;
}

async function withCluster<T>(
  system: System,
  ctx: RunContext,
  nodes: number,
  run: (cluster: Cluster, receiver: Receiver) => Promise<T>,
): Promise<T> {
  const cluster = await system.start(ctx, nodes);
  const receiver = new Receiver();
  try {
    return await run(cluster, receiver);
  } finally {
    receiver.closing = true;
    await cluster.stop();
  }
}

/** Runs `publish` at `perSecond` through warm-up, then measures one window. */
async function fixedRateWindow(
  cluster: Cluster,
  receiver: Receiver,
  perSecond: number,
  expectedPerMessage: number,
  publish: (i: number) => void,
  warmupSeconds: number,
  windowSeconds: number,
) {
  const pacer = startPacer(perSecond, publish);
  await delay(warmupSeconds * 1000);
  receiver.startSampling();
  const from = snapshot(cluster, receiver);
  await delay(windowSeconds * 1000);
  const to = snapshot(cluster, receiver);
  const latency = receiver.stopSampling();
  pacer.stop();
  const expected = pacer.sent() * expectedPerMessage;
  const drained = await until(() => receiver.received >= expected, 10_000);
  const window = windowOf(from, to);
  return {
    ...window,
    latency,
    saturated: saturated(window),
    published: pacer.sent(),
    lostOrLate: drained ? 0 : expected - receiver.received,
  };
}

// ---- (A) fan-out --------------------------------------------------------------------------

export async function fanout(system: System, ctx: RunContext, o: FanoutOptions): Promise<Result> {
  const nodes = system.clustered ? o.nodes : 1;
  return withCluster(system, ctx, nodes, async (cluster, receiver) => {
    const topic = 'bench.a';
    let pool: Pool | undefined;
    try {
      const connectStarted = performance.now();
      pool = await connectMany(system, cluster, receiver, o.subscribers);
      const clients = pool.clients;
      await forEachLimited(clients.length, 200, (i) => clients[i]!.subscribe(topic));
      const connectSeconds = (performance.now() - connectStarted) / 1000;
      await delay(500);

      const perSecond = o.rate / o.subscribers;
      let n = 0;
      const fixed = await fixedRateWindow(
        cluster,
        receiver,
        perSecond,
        o.subscribers,
        () => cluster.publish(topic, eventBody(n++)),
        o.warmupSeconds,
        o.windowSeconds,
      );

      // Closed loop: keep `inflight` messages out; one completes when every subscriber has it.
      const counts = new Map<number, number>();
      let inflight = 0;
      let running = true;
      const pump = () => {
        while (running && inflight < o.inflight) {
          inflight++;
          cluster.publish(topic, eventBody(n++));
        }
      };
      const firstClosedLoop = n;
      receiver.onNumber = (m) => {
        if (m < firstClosedLoop) return;
        const c = (counts.get(m) ?? 0) + 1;
        if (c >= o.subscribers - receiver.unexpectedCloses) {
          counts.delete(m);
          inflight--;
          pump();
        } else counts.set(m, c);
      };
      pump();
      await delay(1000);
      const from = snapshot(cluster, receiver);
      await delay(o.saturationSeconds * 1000);
      const to = snapshot(cluster, receiver);
      running = false;
      await until(() => inflight === 0, 10_000);
      receiver.onNumber = undefined;
      const sat = windowOf(from, to);

      return {
        scenario: 'A-fanout',
        system: system.name,
        parameters: {
          subscribers: o.subscribers,
          nodes,
          topic,
          fixedRateDeliveriesPerSecond: o.rate,
          messagesPerSecond: round(perSecond, 3),
          windowSeconds: o.windowSeconds,
          saturationSeconds: o.saturationSeconds,
          inflight: o.inflight,
          publishPath: cluster.publishPath,
        },
        metrics: {
          connectSeconds: round(connectSeconds, 1),
          fixedRate: fixed,
          saturation: { ...sat, saturated: saturated(sat) },
          unexpectedCloses: receiver.unexpectedCloses,
          malformedFrames: receiver.malformed,
        },
      };
    } finally {
      await pool?.closeAll();
    }
  });
}

// ---- (B) two-person rooms -----------------------------------------------------------------

export interface RoomsOptions {
  rooms: number;
  nodes: number;
  /** Messages per second over all rooms (each reaches both members). */
  messagesPerSecond: number;
  warmupSeconds: number;
  windowSeconds: number;
}

export async function rooms(system: System, ctx: RunContext, o: RoomsOptions): Promise<Result> {
  const nodes = system.clustered ? o.nodes : 1;
  return withCluster(system, ctx, nodes, async (cluster, receiver) => {
    let pool: Pool | undefined;
    try {
      // Member k of room r is client 2r+k on node k: every room spans two nodes when there are two.
      pool = await connectMany(system, cluster, receiver, o.rooms * 2, {
        nodeOf: (i) => (i % 2) % cluster.nodes.length,
      });
      const clients = pool.clients;
      await forEachLimited(clients.length, 200, (i) =>
        clients[i]!.subscribe(`bench.room.${Math.floor(i / 2)}`),
      );
      await delay(500);
      const fixed = await fixedRateWindow(
        cluster,
        receiver,
        o.messagesPerSecond,
        2,
        (i) => cluster.publish(`bench.room.${i % o.rooms}`, eventBody(i)),
        o.warmupSeconds,
        o.windowSeconds,
      );
      return {
        scenario: 'B-rooms',
        system: system.name,
        parameters: {
          rooms: o.rooms,
          membersPerRoom: 2,
          nodes,
          messagesPerSecond: o.messagesPerSecond,
          deliveriesPerSecond: o.messagesPerSecond * 2,
          windowSeconds: o.windowSeconds,
          publishPath: cluster.publishPath,
        },
        metrics: {
          fixedRate: fixed,
          unexpectedCloses: receiver.unexpectedCloses,
          malformedFrames: receiver.malformed,
        },
      };
    } finally {
      await pool?.closeAll();
    }
  });
}

// ---- (C) idle connections -----------------------------------------------------------------

export interface IdleOptions {
  connections: number;
  settleSeconds: number;
  idleSeconds: number;
}

export async function idle(system: System, ctx: RunContext, o: IdleOptions): Promise<Result> {
  return withCluster(system, ctx, 1, async (cluster, receiver) => {
    const server = cluster.servers[0];
    if (!server) throw new Error('no server process');
    let pool: Pool | undefined;
    try {
      await delay(o.settleSeconds * 1000);
      const rssBefore = rssBytes(server.pid);
      const connectStarted = performance.now();
      pool = await connectMany(system, cluster, receiver, o.connections, { concurrency: 100 });
      const connectSeconds = (performance.now() - connectStarted) / 1000;
      await delay(o.settleSeconds * 1000);
      const rssAfter = rssBytes(server.pid);
      const from = snapshot(cluster, receiver);
      await delay(o.idleSeconds * 1000);
      const to = snapshot(cluster, receiver);
      const window = windowOf(from, to);
      const rssEnd = rssBytes(server.pid);
      return {
        scenario: 'C-idle',
        system: system.name,
        parameters: {
          connections: o.connections,
          nodes: 1,
          settleSeconds: o.settleSeconds,
          idleSeconds: o.idleSeconds,
        },
        metrics: {
          connectSeconds: round(connectSeconds, 1),
          rssBeforeMiB: round(rssBefore / 2 ** 20, 1),
          rssAfterMiB: round(rssAfter / 2 ** 20, 1),
          rssEndOfIdleMiB: round(rssEnd / 2 ** 20, 1),
          kibPerConnection: round((rssAfter - rssBefore) / o.connections / 1024, 2),
          idleServerCpuPercent: window.serverCpuPercent,
          idleServerCpuUsPerConnectionSecond: round(
            ((window.serverCpuPercent / 100) * 1e6) / o.connections,
            3,
          ),
          idleRedisCpuPercent: window.redisCpuPercent,
          unexpectedCloses: receiver.unexpectedCloses,
        },
      };
    } finally {
      await pool?.closeAll();
    }
  });
}
