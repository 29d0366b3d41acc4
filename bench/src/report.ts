// Turns the JSON lines of one or more `npm run bench` runs into the Markdown tables of
// docs/benchmarks.md: `node --import tsx bench/src/report.ts results.jsonl`.
import { readFileSync } from 'node:fs';

interface Row {
  scenario: string;
  system: string;
  parameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function table(header: string[], rows: unknown[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function wait(window: Obj): string {
  return `${cell(window.serverRunQueueWaitPercent)} / ${cell(window.loadGeneratorRunQueueWaitPercent)}`;
}

/** The columns of a fixed-rate window (scenarios A and B), in `fixedRateCells`' order. */
const FIXED_RATE_COLUMNS = [
  'server µs/delivery',
  'server CPU %',
  'Redis CPU %',
  'load gen CPU %',
  'p50 ms',
  'p99 ms',
  'run-queue wait % server / load gen',
];

function fixedRateCells(window: Obj): unknown[] {
  const l = window.latency as Obj;
  return [
    window.serverCpuUsPerDelivery,
    window.serverCpuPercent,
    window.redisCpuPercent,
    window.loadGeneratorCpuPercent,
    l.p50Ms,
    l.p99Ms,
    wait(window),
  ];
}

/** A latency summary as `p50 / p90 / p99 / max`. */
function latency(summary: unknown): string {
  const v = (summary ?? {}) as Obj;
  return `${cell(v.p50Ms)} / ${cell(v.p90Ms)} / ${cell(v.p99Ms)} / ${cell(v.maxMs)}`;
}

/** The p99 of every second of a window, in order (results before it have none). */
function p99BySecond(title: string, summary: unknown): string[] {
  const { bySecond, startedAt } = (summary ?? {}) as Obj;
  const seconds = bySecond as Obj[] | undefined;
  if (!seconds?.length) return [];
  const from = typeof startedAt === 'string' ? ` (second 0 began at ${startedAt})` : '';
  return [
    '',
    `${title}, p99 ms by second of the window${from}: ${seconds.map((s) => cell(s.p99Ms)).join(', ')}`,
  ];
}

/** The load generator's longest timer lag and its collector's pauses, per second of a window. */
function stallsBySecond(seconds: unknown): string[] {
  const list = seconds as Obj[] | undefined;
  if (!list?.length) return [];
  return [
    '',
    `Load generator's own stalls by second, longest timer lag / GC pause ms: ${list
      .map((s) => `${cell(s.maxLagMs)}/${cell(s.gcMs)}`)
      .join(', ')}`,
  ];
}

function ms(latency: unknown, key: 'p50Ms' | 'p99Ms'): unknown {
  return latency ? (latency as Obj)[key] : undefined;
}

/** (D): the closed-loop windows, the fixed-rate window, delivery accounting and pgbench. */
function durable(r: Row): string {
  const m = r.metrics;
  const p = r.parameters;
  const saturation = m.saturation as Obj[];
  const f = m.fixedRate as Obj;
  const server = f.server as Obj;
  const d = m.delivery as Obj;
  const pg = m.pgbench as Obj;
  const t = m.targets as Obj;
  const latency = f.commitToDelivery as Obj;
  const fastPath = server.outboxCommitToPublishFast as Obj | null;
  const workerPath = server.outboxCommitToPublishWorker as Obj | null;
  const workerCount = (w: Obj) =>
    ((w.server as Obj | undefined)?.outboxCommitToPublishWorker as Obj | null)?.count ?? 0;
  const processed = (w: Obj) => {
    const lag = w.createdToProcessed as Obj | undefined;
    return lag ? `${cell(lag.p50Ms)} / ${cell(lag.p99Ms)}` : undefined;
  };
  return [
    `Durable pipeline (${cell(p.nodes)} node, ${cell(p.topics)} topics ${cell(p.topicPattern)}, ` +
      `${cell(p.subscribers)} subscribers each on every topic; ${cell(p.publishPath)}):`,
    '',
    table(
      [
        'publishers',
        'committed /s (API)',
        'delivered events /s',
        'deliveries /s',
        'ack p50 / p99 ms',
        'commit-to-delivery p50 / p99 ms',
        'server CPU %',
        'server µs/event',
        'PostgreSQL CPU %',
        'PostgreSQL µs/event',
        'Redis CPU %',
        'load gen CPU %',
        'run-queue wait % server / load gen',
        'events published by relay workers',
        'commit-to-processed p50 / p99 ms',
      ],
      saturation.map((s) => [
        s.publishers,
        s.committedPerSecond,
        s.deliveredEventsPerSecond,
        s.deliveriesPerSecond,
        `${cell(ms(s.publishToAcknowledgement, 'p50Ms'))} / ${cell(ms(s.publishToAcknowledgement, 'p99Ms'))}`,
        `${cell(ms(s.commitToDelivery, 'p50Ms'))} / ${cell(ms(s.commitToDelivery, 'p99Ms'))}`,
        s.serverCpuPercent,
        s.serverCpuUsPerEvent,
        s.postgresCpuPercent,
        s.postgresCpuUsPerEvent,
        s.redisCpuPercent,
        s.loadGeneratorCpuPercent,
        wait(s),
        workerCount(s),
        processed(s),
      ]),
    ),
    '',
    table(
      [
        'fixed rate /s',
        'committed /s',
        'commit-to-delivery p50 / p90 / p99 / max ms',
        'ack p50 / p99 ms',
        'server: HTTP publish p50 / p99 ms',
        'server: outbox commit-to-publish p50 / p99 ms (fast path events)',
        'events published by relay workers',
        'commit-to-processed p50 / p99 ms',
        'server: publish-to-socket p50 / p99 ms',
        'server CPU %',
        'server µs/event',
        'PostgreSQL CPU %',
        'run-queue wait % server / load gen',
      ],
      [
        [
          p.fixedRateEventsPerSecond,
          f.committedPerSecond,
          `${cell(latency.p50Ms)} / ${cell(latency.p90Ms)} / ${cell(latency.p99Ms)} / ${cell(latency.maxMs)}`,
          `${cell(ms(f.publishToAcknowledgement, 'p50Ms'))} / ${cell(ms(f.publishToAcknowledgement, 'p99Ms'))}`,
          `${cell(ms(server.httpPublish, 'p50Ms'))} / ${cell(ms(server.httpPublish, 'p99Ms'))}`,
          `${cell(ms(fastPath, 'p50Ms'))} / ${cell(ms(fastPath, 'p99Ms'))} (${cell(fastPath?.count)})`,
          workerPath?.count ?? 0,
          processed(f),
          `${cell(ms(server.publishToSocket, 'p50Ms'))} / ${cell(ms(server.publishToSocket, 'p99Ms'))}`,
          f.serverCpuPercent,
          f.serverCpuUsPerEvent,
          f.postgresCpuPercent,
          wait(f),
        ],
      ],
    ),
    '',
    table(
      [
        'events committed',
        'lost',
        'duplicates',
        'publish errors',
        `pgbench tps (${cell((p.pgbench as Obj | undefined)?.clients)} clients, ${cell((p.pgbench as Obj | undefined)?.threads)} threads)`,
        'PostgreSQL CPU % under pgbench',
        'durable events/s ÷ pgbench tps',
        'commit-to-delivery p99 at the fixed rate',
      ],
      [
        [
          d.committed,
          d.lost,
          d.duplicates,
          d.publishErrors,
          t.pgbenchTps,
          pg.postgresCpuPercent,
          `${cell(t.durableEventsPerSecond)} / ${cell(t.pgbenchTps)} = ${cell(t.ratio)} (target ≥ ${cell(t.ratioTarget)}: ${t.ratioMet ? 'met' : 'not met'})`,
          `${cell(t.p99CommitToDeliveryMs)} ms (target ≤ ${cell(t.p99TargetMs)}: ${t.p99Met ? 'met' : 'not met'})`,
        ],
      ],
    ),
  ].join('\n');
}

/** (R): webhook answers and webhook-to-stream delivery at a fixed rate. */
function relay(r: Row): string {
  const p = r.parameters;
  const m = r.metrics;
  const w = m.window as Obj;
  const d = m.delivery as Obj;
  const t = m.targets as Obj;
  return [
    `Kakao relay (${cell(p.nodes)} nodes, ${cell(p.agentStreams)} agent streams, ` +
      `${cell(p.conversations)} paired conversations):`,
    '',
    table(
      [
        'rate /s',
        'sent /s',
        'answered /s',
        'webhook response p50 / p90 / p99 / max ms',
        'webhook → SSE p50 / p90 / p99 / max ms',
        'server CPU %',
        'server µs/webhook',
        'PostgreSQL CPU %',
        'PostgreSQL µs/webhook',
        'Redis CPU %',
        'load gen CPU %',
        'run-queue wait % server / load gen',
      ],
      [
        [
          p.webhooksPerSecond,
          w.webhooksPerSecond,
          w.webhooksAnsweredPerSecond,
          latency(m.webhookResponse),
          latency(m.webhookToDelivery),
          w.serverCpuPercent,
          w.serverCpuUsPerWebhook,
          w.postgresCpuPercent,
          w.postgresCpuUsPerWebhook,
          w.redisCpuPercent,
          w.loadGeneratorCpuPercent,
          wait(w),
        ],
      ],
    ),
    '',
    table(
      ['lost', 'duplicates', 'webhook errors', 'drained', 'inbound statuses', 'webhook p99 target'],
      [
        [
          d.lost,
          d.duplicates,
          d.webhookErrors,
          d.drained ? 'yes' : 'no',
          d.inboundStatuses,
          `${cell(t.webhookP99Ms)} ms (target ≤ ${cell(t.webhookP99TargetMs)}: ${t.webhookP99Met ? 'met' : 'not met'})`,
        ],
      ],
    ),
    ...p99BySecond('Webhook response', m.webhookResponse),
    ...stallsBySecond(w.loadGeneratorBySecond),
  ].join('\n');
}

/** (E): the fixed-rate window of team chat, its delivery accounting and setup. */
function chat(r: Row): string {
  const p = r.parameters;
  const m = r.metrics;
  const f = m.fixedRate as Obj;
  const d = m.delivery as Obj;
  const t = m.target as Obj;
  const setup = m.setup as Obj;
  return [
    `Team chat (${cell(p.nodes)} nodes, ${cell(p.users)} users in ${cell(p.channels)} channels of ` +
      `${cell(p.membersPerChannel)}; ${cell(p.layout)}; ${cell(p.sendPath)}):`,
    '',
    table(
      [
        'rate /s',
        'sent /s',
        'committed /s',
        'delivered messages /s',
        'deliveries /s',
        'send-to-receive p50 / p90 / p99 / max ms',
        'send-to-ack p50 / p90 / p99 / max ms',
        'server CPU %',
        'server µs/message',
        'PostgreSQL CPU %',
        'PostgreSQL µs/message',
        'Redis CPU %',
        'load gen CPU %',
        'run-queue wait % server / load gen',
      ],
      [
        [
          p.messagesPerSecond,
          f.sentPerSecond,
          f.committedPerSecond,
          f.deliveredMessagesPerSecond,
          f.deliveriesPerSecond,
          latency(f.sendToReceive),
          latency(f.sendToAck),
          f.serverCpuPercent,
          f.serverCpuUsPerMessage,
          f.postgresCpuPercent,
          f.postgresCpuUsPerMessage,
          f.redisCpuPercent,
          f.loadGeneratorCpuPercent,
          wait(f),
        ],
      ],
    ),
    '',
    table(
      [
        'messages sent',
        'committed',
        'deliveries',
        'lost',
        'duplicates',
        'send errors',
        'unexpected closes',
        'all arrived after sending stopped',
        'setup: sign-ups /s, connect s, total s',
        `send-to-receive p99 at ${cell(t.atMessagesPerSecond)}/s`,
      ],
      [
        [
          d.sent,
          d.committed,
          d.deliveries,
          d.lost,
          d.duplicates,
          d.sendErrors,
          m.unexpectedCloses,
          `${f.drained ? 'yes' : 'no'}, in ${cell(f.drainSeconds)} s`,
          `${cell(setup.registrationsPerSecond)}, ${cell(setup.connectSeconds)}, ${cell(setup.totalSeconds)}`,
          `${cell(t.p99SendToReceiveMs)} ms at ${cell(p.messagesPerSecond)}/s (target ≤ ${cell(t.p99TargetMs)}: ${t.p99Met ? 'met' : 'not met'})`,
        ],
      ],
    ),
    ...p99BySecond('Send-to-receive', f.sendToReceive),
    ...stallsBySecond(f.loadGeneratorBySecond),
  ].join('\n');
}

export function report(lines: readonly string[]): string {
  const rows: Row[] = lines
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Row);
  const out: string[] = [];
  for (const run of rows.filter((r) => r.scenario === 'run')) {
    const m = run.metrics;
    out.push(
      `Run: ${cell(m.cpuModel)}, ${cell(m.nproc)} cores, ${cell(m.memoryGiB)} GiB, Node ${cell(m.node)}, ` +
        `load average at start ${cell(m.loadAverageAtStart)}.`,
    );
  }
  const fan = rows.filter((r) => r.scenario === 'A-fanout');
  if (fan.length > 0) {
    out.push(
      '',
      table(
        [
          'system',
          'subs',
          'nodes',
          'fixed rate /s',
          ...FIXED_RATE_COLUMNS,
          'max /s (closed loop)',
          'server / load gen CPU % there',
          'saturated',
        ],
        fan.map((r) => {
          const f = r.metrics.fixedRate as Obj;
          const s = r.metrics.saturation as Obj;
          return [
            r.system,
            r.parameters.subscribers,
            r.parameters.nodes,
            f.deliveriesPerSecond,
            ...fixedRateCells(f),
            s.deliveriesPerSecond,
            `${cell(s.serverCpuPercent)} / ${cell(s.loadGeneratorCpuPercent)}`,
            s.saturated,
          ];
        }),
      ),
    );
  }
  const rooms = rows.filter((r) => r.scenario === 'B-rooms');
  if (rooms.length > 0) {
    out.push(
      '',
      table(
        ['system', 'rooms', 'nodes', 'deliveries /s', ...FIXED_RATE_COLUMNS],
        rooms.map((r) => {
          const f = r.metrics.fixedRate as Obj;
          return [
            r.system,
            r.parameters.rooms,
            r.parameters.nodes,
            f.deliveriesPerSecond,
            ...fixedRateCells(f),
          ];
        }),
      ),
    );
  }
  const idle = rows.filter((r) => r.scenario === 'C-idle');
  if (idle.length > 0) {
    out.push(
      '',
      table(
        [
          'system',
          'connections',
          'RSS before MiB',
          'RSS after MiB',
          'KiB/connection',
          'idle server CPU %',
          'idle Redis CPU %',
        ],
        idle.map((r) => [
          r.system,
          r.parameters.connections,
          r.metrics.rssBeforeMiB,
          r.metrics.rssAfterMiB,
          r.metrics.kibPerConnection,
          r.metrics.idleServerCpuPercent,
          r.metrics.idleRedisCpuPercent,
        ]),
      ),
    );
  }
  for (const r of rows.filter((row) => row.scenario === 'D-durable')) out.push('', durable(r));
  for (const r of rows.filter((row) => row.scenario === 'E-chat')) out.push('', chat(r));
  for (const r of rows.filter((row) => row.scenario === 'R-relay')) out.push('', relay(r));
  const paths = new Set(
    rows
      .filter((r) => r.parameters.publishPath)
      .map((r) => `${r.system}: ${cell(r.parameters.publishPath)}`),
  );
  if (paths.size > 0) out.push('', 'Publish paths:', ...[...paths].map((p) => `- ${p}`));
  return out.join('\n');
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node --import tsx bench/src/report.ts <results.jsonl>...');
  process.exitCode = 2;
} else {
  console.log(report(files.flatMap((f) => readFileSync(f, 'utf8').split('\n'))));
}
