// (R) the Kakao ↔ OpenClaw relay: Switchboard nodes on PostgreSQL and Redis, many paired Kakao
// conversations spread over agent accounts, each account with one SSE stream (`GET /v1/events`)
// on one of the nodes, and Kakao webhooks at a steady rate from the load generator, round-robin
// over the nodes. Measures the webhook's answer time (Kakao gives a skill 5 s; the target is far
// below), webhook → SSE delivery time (the send time rides in the utterance), what was lost or
// delivered twice, and whether every message ended marked delivered.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { skillPayload } from '../../server/src/relay/test-support/fake-kakao.js';
import { hashToken, newToken } from '../../server/src/relay/tokens.js';
import {
  cpuDelta,
  DeliveryTally,
  Receiver,
  round,
  snapshot,
  startPacer,
  until,
  windowOf,
  WindowSamples,
  type WindowLatency,
} from './harness.js';
import { cpuSecondsByCommand, delay } from './procs.js';
import { StallRecorder } from './stalls.js';
import { WalMeter, walBytesPer } from './wal.js';
import type { Result } from './scenarios.js';
import type { SwitchboardSystem } from './systems/switchboard.js';
import type { RunContext } from './systems/system.js';

/** The target the scenario reports against. */
export const RELAY_TARGETS = { webhookP99Ms: 50 } as const;
const DRAIN_MS = 15_000;
const BOT_ID = 'bench-bot';
const UTTERANCE = /^bench n=(\d+) t=([\d.]+)$/;

/** The nodes may post replies to the bench's own callback address. */
export const RELAY_SERVER_ENV: Readonly<Record<string, string>> = {
  RELAY_CALLBACK_INSECURE_HOSTS: '127.0.0.1',
};

export interface RelayOptions {
  nodes: number;
  accounts: number;
  conversations: number;
  /** Webhooks per second. */
  rate: number;
  /** CPUs PostgreSQL was pinned to (`--postgres-cpus`); unset: not pinned. */
  postgresCpus?: string | undefined;
  warmupSeconds: number;
  windowSeconds: number;
  serverEnv: Readonly<Record<string, string>>;
}

function psql(databaseUrl: string, sql: string): string {
  return execFileSync('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], {
    encoding: 'utf8',
    stdio: 'pipe',
    timeout: 60_000,
  }).trim();
}

/** Accounts with known tokens and paired conversations, written straight to the relay tables. */
function seed(databaseUrl: string, accounts: number, conversations: number): string[] {
  const tokens = Array.from({ length: accounts }, () => newToken());
  const ids = tokens.map(() => randomUUID());
  psql(
    databaseUrl,
    `insert into relay.accounts (id, relay_token_hash, rate_limit_per_minute) values ${ids
      .map((id, i) => `('${id}', '${hashToken(tokens[i]!)}', 1000000)`)
      .join(',')}`,
  );
  const rows = Array.from({ length: conversations }, (_, c) => {
    const user = `u${c}`;
    return `('${BOT_ID}:${user}', '${BOT_ID}', '${user}', '${ids[c % accounts]}', 'paired', now())`;
  });
  psql(
    databaseUrl,
    `insert into relay.conversation_mappings
       (conversation_key, kakao_channel_id, plusfriend_user_key, account_id, state, paired_at)
     values ${rows.join(',')}`,
  );
  return tokens;
}

/** One agent's stream, read with the plugin's framing (blocks end at a blank line). */
class AgentStream {
  status = 0;
  closed = false;
  private buffer = '';
  private response: IncomingMessage | undefined;

  constructor(
    base: string,
    token: string,
    agent: Agent,
    private readonly onMessage: (text: string) => void,
  ) {
    const req = request(new URL('/v1/events', base), {
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'text/event-stream',
        'cache-control': 'no-cache',
      },
    });
    req.on('response', (res) => {
      this.response = res;
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.read(chunk));
      res.on('close', () => (this.closed = true));
    });
    req.on('error', () => (this.closed = true));
    req.end();
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    const blocks = this.buffer.split('\n\n');
    this.buffer = blocks.pop() ?? '';
    for (const block of blocks) {
      if (!block.includes('event: message')) continue;
      const data = block.split('\n').findLast((line) => line.startsWith('data:'));
      if (!data) continue;
      const message = JSON.parse(data.slice(5)) as { normalized?: { text?: string } };
      if (message.normalized?.text) this.onMessage(message.normalized.text);
    }
  }

  close(): void {
    this.response?.destroy();
  }
}

/** Posts webhooks over keep-alive connections and times each answer. */
class WebhookSender {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  inFlight = 0;
  ok = 0;
  errors = 0;
  readonly firstErrors: string[] = [];
  /** Takes samples only between `startSampling` and `stopSampling`. */
  private readonly samples = new WindowSamples();

  post(base: string, body: string, onOk: () => void): void {
    const started = performance.now();
    this.inFlight++;
    const finish = (error?: string) => {
      this.inFlight--;
      if (error === undefined) {
        this.ok++;
        this.samples.add(started, performance.now() - started);
        onOk();
      } else {
        this.errors++;
        if (this.firstErrors.length < 5) this.firstErrors.push(error);
      }
    };
    const req = request(
      new URL('/kakao-talkchannel/webhook', base),
      { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          res.statusCode === 200 && text.includes('"useCallback":true')
            ? finish()
            : finish(`HTTP ${res.statusCode ?? '?'}: ${text.slice(0, 200)}`),
        );
      },
    );
    req.on('error', (err) => finish(err.message));
    req.end(body);
  }

  startSampling(max: number): void {
    this.samples.start(max);
  }

  stopSampling(): WindowLatency {
    return this.samples.stop();
  }

  close(): void {
    this.agent.destroy();
  }
}

export async function relay(
  system: SwitchboardSystem,
  ctx: RunContext,
  o: RelayOptions,
): Promise<Result> {
  const cluster = await system.start(ctx, o.nodes);
  const receiver = new Receiver();
  // One logical subscriber: each message goes to exactly one agent.
  const tally = new DeliveryTally(1);
  const streams: AgentStream[] = [];
  const streamAgent = new Agent({ keepAlive: true, maxSockets: o.accounts });
  const sender = new WebhookSender();
  let wal: WalMeter | undefined;
  try {
    const { databaseUrl } = cluster;
    if (!databaseUrl) throw new Error('(R) needs PostgreSQL: run it with --database=postgres');
    const urls = cluster.httpUrls;
    const seedStarted = performance.now();
    const tokens = seed(databaseUrl, o.accounts, o.conversations);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    // Samples only while the window is open (started and stopped below).
    const deliveries = new WindowSamples();
    const onMessage = (text: string) => {
      const match = UTTERANCE.exec(text);
      if (!match) {
        receiver.malformed++;
        return;
      }
      receiver.received++;
      const sentAt = Number(match[2]);
      deliveries.add(sentAt, performance.now() - sentAt);
      tally.delivered(0, Number(match[1]));
    };
    tokens.forEach((token, i) => {
      streams.push(new AgentStream(urls[i % urls.length]!, token, streamAgent, onMessage));
    });
    const open = await until(() => streams.every((s) => s.status !== 0), 30_000);
    const refused = streams.filter((s) => s.status !== 200).length;
    if (!open || refused > 0) {
      throw new Error(
        `${refused} of ${streams.length} agent streams were not opened (statuses: ${[
          ...new Set(streams.map((s) => s.status)),
        ].join(', ')}); does the build have GET /v1/events?`,
      );
    }

    const send = (n: number) => {
      const conversation = n % o.conversations;
      const body = JSON.stringify(
        skillPayload({
          utterance: `bench n=${n} t=${performance.now()}`,
          userKey: `u${conversation}`,
          botId: BOT_ID,
          // Never called back: the scenario measures the way in, not replies.
          callbackUrl: `http://127.0.0.1:9/callback/${randomUUID()}`,
        }),
      );
      sender.post(urls[n % urls.length]!, body, () => tally.committed(n));
    };
    wal = await WalMeter.open(databaseUrl);
    const pacer = startPacer(o.rate, send);
    await delay(o.warmupSeconds * 1000);
    const expectedSamples = Math.ceil(o.rate * o.windowSeconds * 1.5);
    const walFrom = await wal.position();
    deliveries.start(expectedSamples);
    const stalls = new StallRecorder();
    stalls.start();
    sender.startSampling(expectedSamples);
    const from = snapshot(cluster, receiver);
    const postgresFrom = cpuSecondsByCommand('postgres');
    const sentBefore = pacer.sent();
    const okBefore = sender.ok;
    await delay(o.windowSeconds * 1000);
    const to = snapshot(cluster, receiver);
    const postgresTo = cpuSecondsByCommand('postgres');
    const walTo = await wal.position();
    const sentInWindow = pacer.sent() - sentBefore;
    const webhook = sender.stopSampling();
    const delivery = deliveries.stop();
    const loadGeneratorBySecond = stalls.stop();
    pacer.stop();
    const answeredInWindow = sender.ok - okBefore;
    // Every webhook answered first (a backlog drains at the server's pace), then every delivery.
    const answered = await until(() => sender.inFlight === 0, DRAIN_MS * 4);
    const drained = answered && (await until(() => tally.complete(), DRAIN_MS));
    const statuses = Object.fromEntries(
      psql(databaseUrl, 'select status, count(*) from relay.inbound_messages group by status')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [status = '', count = '0'] = line.split('|');
          return [status, Number(count)];
        }),
    );
    const window = windowOf(from, to);
    const postgresSeconds = cpuDelta(postgresFrom, postgresTo);
    const perWebhook = (seconds: number) =>
      answeredInWindow > 0 ? round((seconds * 1e6) / answeredInWindow, 1) : null;
    const summary = tally.summary();
    const p99 = webhook.p99Ms;
    return {
      scenario: 'R-relay',
      system: system.name,
      parameters: {
        nodes: o.nodes,
        accounts: o.accounts,
        agentStreams: streams.length,
        conversations: o.conversations,
        webhooksPerSecond: o.rate,
        warmupSeconds: o.warmupSeconds,
        postgresCpus: o.postgresCpus ?? 'not pinned',
        windowSeconds: o.windowSeconds,
        webhookPath: 'POST /kakao-talkchannel/webhook, round-robin over the nodes (keep-alive)',
        streams: 'GET /v1/events with account tokens, account i on node i mod nodes',
        serverEnv: o.serverEnv,
      },
      metrics: {
        seedSeconds: round(seedSeconds, 2),
        window: {
          ...window,
          webhooksSent: sentInWindow,
          webhooksPerSecond: Math.round(sentInWindow / window.seconds),
          webhooksAnsweredPerSecond: Math.round(answeredInWindow / window.seconds),
          postgresCpuPercent: round((postgresSeconds / window.seconds) * 100, 1),
          serverCpuUsPerWebhook: perWebhook(to.servers - from.servers),
          postgresCpuUsPerWebhook: perWebhook(postgresSeconds),
          walBytesPerWebhook: walBytesPer(walFrom, walTo, answeredInWindow),
          loadGeneratorBySecond,
        },
        webhookResponse: webhook,
        webhookToDelivery: delivery,
        delivery: {
          ...summary,
          drained,
          webhooksUnanswered: sender.inFlight,
          webhookErrors: sender.errors,
          firstErrors: [...sender.firstErrors],
          malformed: receiver.malformed,
          closedStreams: streams.filter((s) => s.closed).length,
          inboundStatuses: statuses,
        },
        targets: {
          webhookP99Ms: p99,
          webhookP99TargetMs: RELAY_TARGETS.webhookP99Ms,
          webhookP99Met: p99 !== null && p99 <= RELAY_TARGETS.webhookP99Ms,
        },
      },
    };
  } finally {
    receiver.closing = true;
    for (const stream of streams) stream.close();
    streamAgent.destroy();
    sender.close();
    await wal?.close();
    await cluster.stop();
  }
}
