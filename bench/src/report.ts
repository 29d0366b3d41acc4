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
          'server µs/delivery',
          'server CPU %',
          'Redis CPU %',
          'load gen CPU %',
          'p50 ms',
          'p99 ms',
          'run-queue wait % server / load gen',
          'max /s (closed loop)',
          'server / load gen CPU % there',
          'saturated',
        ],
        fan.map((r) => {
          const f = r.metrics.fixedRate as Obj;
          const l = f.latency as Obj;
          const s = r.metrics.saturation as Obj;
          return [
            r.system,
            r.parameters.subscribers,
            r.parameters.nodes,
            f.deliveriesPerSecond,
            f.serverCpuUsPerDelivery,
            f.serverCpuPercent,
            f.redisCpuPercent,
            f.loadGeneratorCpuPercent,
            l.p50Ms,
            l.p99Ms,
            wait(f),
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
        [
          'system',
          'rooms',
          'nodes',
          'deliveries /s',
          'server µs/delivery',
          'server CPU %',
          'Redis CPU %',
          'load gen CPU %',
          'p50 ms',
          'p99 ms',
          'run-queue wait % server / load gen',
        ],
        rooms.map((r) => {
          const f = r.metrics.fixedRate as Obj;
          const l = f.latency as Obj;
          return [
            r.system,
            r.parameters.rooms,
            r.parameters.nodes,
            f.deliveriesPerSecond,
            f.serverCpuUsPerDelivery,
            f.serverCpuPercent,
            f.redisCpuPercent,
            f.loadGeneratorCpuPercent,
            l.p50Ms,
            l.p99Ms,
            wait(f),
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
