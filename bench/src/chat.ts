// (E) team chat: users of one workspace connected over WebSocket to a Switchboard cluster on
// PostgreSQL and Redis, each subscribed to its channels at connect, sending messages with the
// `send` op at a fixed aggregate rate. Measures what the server commits (the `send` replies), what
// every member receives (send-to-receive latency from the time stamped in the message text), every
// delivery lost or duplicated, and the CPU of the nodes, Redis and PostgreSQL.
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { buildChatWorld, channelOf, slotOf, type ChatLayout } from './chat-setup.js';
import { acknowledgedNumber, ChatTally, readChatMessage, sendFrame } from './chat-tally.js';
import {
  cpuDelta,
  forEachLimited,
  Receiver,
  round,
  snapshot,
  startPacer,
  until,
  windowOf,
  WindowSamples,
  type Snapshot,
} from './harness.js';
import { cpuSecondsByCommand, delay } from './procs.js';
import { StallRecorder } from './stalls.js';
import { WalMeter, walBytesPer } from './wal.js';
import type { Result } from './scenarios.js';
import { openSocket } from './systems/client-socket.js';
import type { SwitchboardCluster, SwitchboardSystem } from './systems/switchboard.js';
import type { RunContext } from './systems/system.js';

/** The target the scenario reports against: send-to-receive p99 at the default rate. */
export const CHAT_TARGETS = { p99Ms: 50, atMessagesPerSecond: 1000 } as const;

/**
 * Configuration every node of this scenario runs with: setup signs up and joins every user from
 * a few loopback addresses, far past the per-IP and per-user chat API limits meant for people;
 * tokens outlive a long run. Flags given with --switchboard-env win.
 */
export const CHAT_SERVER_ENV: Readonly<Record<string, string>> = {
  CHAT_RATE_LIMIT_IP_PER_MINUTE: '0',
  CHAT_RATE_LIMIT_WRITES_PER_MINUTE: '0',
  CHAT_ACCESS_TOKEN_TTL_SECONDS: '7200',
};

/** Longest wait for every acknowledged message to reach every member after sending stops. */
const DRAIN_MS = 30_000;
const CONNECT_CONCURRENCY = 100;
const CONNECTED_TIMEOUT_MS = 15_000;
const EVENT_PREFIX = Buffer.from('{"op":"event"');
const REPLY_PREFIX = Buffer.from('{"op":"send"');
const ERROR_PREFIX = Buffer.from('{"op":"error"');
const CONNECTED_PREFIX = Buffer.from('{"op":"connected"');

export interface ChatOptions extends ChatLayout {
  nodes: number;
  /** Messages per second over all senders. */
  rate: number;
  /** CPUs PostgreSQL was pinned to (`--postgres-cpus`); unset: not pinned. */
  postgresCpus?: string | undefined;
  warmupSeconds: number;
  windowSeconds: number;
  /** Extra server configuration the nodes ran with (recorded in the result). */
  serverEnv: Readonly<Record<string, string>>;
}

const startsWith = (frame: Buffer, prefix: Buffer) =>
  frame.length >= prefix.length && frame.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

/** Growable per-message send times, so acknowledgements can be timed without a map. */
class SendTimes {
  private times = new Float64Array(1 << 16);

  set(n: number, at: number): void {
    if (n >= this.times.length) {
      let length = this.times.length;
      while (length <= n) length *= 2;
      const bigger = new Float64Array(length);
      bigger.set(this.times);
      this.times = bigger;
    }
    this.times[n] = at;
  }

  get(n: number): number {
    return this.times[n] ?? Number.NaN;
  }
}

interface Mark {
  at: Snapshot;
  postgres: Map<number, number>;
  sent: number;
  committed: number;
}

export async function chat(
  system: SwitchboardSystem,
  ctx: RunContext,
  o: ChatOptions,
): Promise<Result> {
  if (o.users % o.channels !== 0) {
    throw new Error('(E) needs --chat-users to be a multiple of --chat-channels');
  }
  const membersPerChannel = o.users / o.channels;
  const started = performance.now();
  const cluster: SwitchboardCluster = await system.start(ctx, o.nodes);
  const receiver = new Receiver();
  const sockets: WebSocket[] = [];
  let wal: WalMeter | undefined;
  try {
    if (!cluster.databaseUrl) {
      throw new Error('(E) measures chat on PostgreSQL: run it with --database=postgres');
    }
    const world = await buildChatWorld(cluster.httpUrls, o);

    const tally = new ChatTally(membersPerChannel);
    const sentAt = new SendTimes();
    const deliveryLatency = new WindowSamples();
    const ackLatency = new WindowSamples();
    const stalls = new StallRecorder();
    let committed = 0;
    let sendErrors = 0;
    let otherEvents = 0;
    const firstErrors: string[] = [];
    const connected: (() => void)[] = [];
    // Latency is that of the messages sent in the window, however late they arrive, so a server
    // falling behind shows in the percentiles instead of leaving its slowest messages out.
    let windowStart = Number.POSITIVE_INFINITY;
    let windowEnd = Number.POSITIVE_INFINITY;
    const inWindow = (at: number) => at >= windowStart && at < windowEnd;

    // One handler per socket, no JSON decoding: the fields it needs are read from the bytes.
    const onFrame = (u: number, frame: Buffer) => {
      if (startsWith(frame, EVENT_PREFIX)) {
        const message = readChatMessage(frame);
        if (Number.isNaN(message.sentAt)) {
          otherEvents++;
          return;
        }
        receiver.received++;
        tally.delivered(message.n, slotOf(o, u));
        // The sender's own connection gets the event too; the latency is the others'.
        if (message.n % o.users !== u && inWindow(message.sentAt)) {
          deliveryLatency.add(message.sentAt, performance.now() - message.sentAt);
        }
      } else if (startsWith(frame, REPLY_PREFIX)) {
        const n = acknowledgedNumber(frame);
        committed++;
        tally.committed(n);
        const at = sentAt.get(n);
        if (inWindow(at)) ackLatency.add(at, performance.now() - at);
      } else if (startsWith(frame, ERROR_PREFIX)) {
        sendErrors++;
        if (firstErrors.length < 5) firstErrors.push(frame.toString('utf8').slice(0, 300));
      } else if (startsWith(frame, CONNECTED_PREFIX)) {
        connected[u]?.();
      }
    };

    const connectStarted = performance.now();
    await forEachLimited(o.users, CONNECT_CONCURRENCY, async (u) => {
      // Half the users on each node of two, and each channel's members split between them.
      const node = cluster.nodes[slotOf(o, u) % cluster.nodes.length]!;
      const ready = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`user ${u}: no connected frame in ${CONNECTED_TIMEOUT_MS} ms`)),
          CONNECTED_TIMEOUT_MS,
        );
        connected[u] = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      const socket = await openSocket(
        `${node}/ws?token=${world.users[u]!.accessToken}`,
        `127.0.0.${2 + (u % 16)}`,
        (frame) => onFrame(u, frame),
      );
      sockets[u] = socket;
      socket.on('close', receiver.onClose);
      await ready;
    });
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    await delay(500);

    const send = (n: number) => {
      const u = n % o.users;
      const at = performance.now();
      sentAt.set(n, at);
      sockets[u]!.send(sendFrame(world.channelIds[channelOf(o, u)]!, n, at));
    };
    const mark = (): Mark => ({
      at: snapshot(cluster, receiver),
      postgres: cpuSecondsByCommand('postgres'),
      sent: pacer.sent(),
      committed,
    });

    wal = await WalMeter.open(cluster.databaseUrl);
    const pacer = startPacer(o.rate, send);
    await delay(o.warmupSeconds * 1000);
    const expectedSamples = Math.ceil(o.rate * o.windowSeconds * 1.5);
    const walFrom = await wal.position();
    const from = mark();
    windowStart = from.at.at;
    deliveryLatency.start(expectedSamples * membersPerChannel, windowStart);
    ackLatency.start(expectedSamples, windowStart);
    stalls.start(windowStart);
    await delay(o.windowSeconds * 1000);
    const to = mark();
    const walTo = await wal.position();
    windowEnd = to.at.at;
    pacer.stop();
    const sent = pacer.sent();
    const drainStarted = performance.now();
    const drained = await until(() => committed + sendErrors >= sent && tally.complete(), DRAIN_MS);
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const sendToReceive = deliveryLatency.stop();
    const sendToAck = ackLatency.stop();
    const loadGeneratorBySecond = stalls.stop();

    const w = windowOf(from.at, to.at);
    const committedInWindow = to.committed - from.committed;
    const serverSeconds = to.at.servers - from.at.servers;
    const postgresSeconds = cpuDelta(from.postgres, to.postgres);
    const perMessage = (seconds: number) =>
      committedInWindow > 0 ? round((seconds * 1e6) / committedInWindow, 1) : null;
    const p99 = sendToReceive.p99Ms;
    return {
      scenario: 'E-chat',
      system: system.name,
      parameters: {
        nodes: cluster.nodes.length,
        users: o.users,
        channels: o.channels,
        membersPerChannel,
        layout:
          'one workspace; user u in channel u mod channels (and #general, silent); ' +
          'each channel half on each node',
        messagesPerSecond: o.rate,
        senders: o.users,
        sendPath: 'WebSocket op send (temp_id) on the sender’s own connection',
        warmupSeconds: o.warmupSeconds,
        postgresCpus: o.postgresCpus ?? 'not pinned',
        windowSeconds: o.windowSeconds,
        serverEnv: o.serverEnv,
      },
      metrics: {
        setup: {
          ...world.timings,
          connectSeconds: round(connectSeconds, 1),
          totalSeconds: round((performance.now() - started) / 1000, 1),
        },
        fixedRate: {
          seconds: w.seconds,
          sentPerSecond: Math.round((to.sent - from.sent) / w.seconds),
          committedPerSecond: Math.round(committedInWindow / w.seconds),
          deliveries: w.deliveries,
          deliveriesPerSecond: w.deliveriesPerSecond,
          deliveredMessagesPerSecond: Math.round(w.deliveriesPerSecond / membersPerChannel),
          sendToReceive,
          sendToAck,
          drained,
          drainSeconds: round(drainSeconds, 1),
          serverCpuPercent: w.serverCpuPercent,
          serverCpuUsPerMessage: perMessage(serverSeconds),
          postgresCpuPercent: round((postgresSeconds / w.seconds) * 100, 1),
          postgresCpuUsPerMessage: perMessage(postgresSeconds),
          walBytesPerMessage: walBytesPer(walFrom, walTo, committedInWindow),
          redisCpuPercent: w.redisCpuPercent,
          loadGeneratorCpuPercent: w.loadGeneratorCpuPercent,
          serverRunQueueWaitPercent: w.serverRunQueueWaitPercent,
          loadGeneratorRunQueueWaitPercent: w.loadGeneratorRunQueueWaitPercent,
          loadGeneratorBySecond,
        },
        delivery: {
          sent,
          ...tally.summary(),
          sendErrors,
          firstErrors,
          otherEvents,
        },
        target: {
          p99SendToReceiveMs: p99,
          p99TargetMs: CHAT_TARGETS.p99Ms,
          atMessagesPerSecond: CHAT_TARGETS.atMessagesPerSecond,
          p99Met: p99 !== null && p99 <= CHAT_TARGETS.p99Ms,
        },
        unexpectedCloses: receiver.unexpectedCloses,
      },
    };
  } finally {
    receiver.closing = true;
    for (const socket of sockets) socket?.close();
    await wal?.close();
    await delay(1000);
    await cluster.stop();
  }
}
