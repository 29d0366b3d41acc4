// `npm run bench`: runs the scenarios against Switchboard and its peers in one run, printing one
// JSON result per line on stdout and a readable summary on stderr. See docs/benchmarks.md.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chat, CHAT_SERVER_ENV, CHAT_TARGETS } from './chat.js';
import { DURABLE_TARGETS, durable } from './durable.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import type { SecondLatency } from './harness.js';
import { relay, RELAY_SERVER_ENV, RELAY_TARGETS } from './relay.js';
import { openFileLimit, pinCommand } from './procs.js';
import { fanout, idle, rooms, type Result } from './scenarios.js';
import { hasPublishApi, switchboard } from './systems/switchboard.js';
import { rawWs, socketIo } from './systems/peers.js';
import type { RunContext, System } from './systems/system.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function affinity(): string {
  const status = readFileSync('/proc/self/status', 'utf8');
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? 'unknown';
}

function systemsFor(o: BenchOptions): System[] {
  const all: Record<string, () => System> = {
    switchboard: () =>
      switchboard({
        adminDatabaseUrl: o.database === 'postgres' ? o.adminDatabaseUrl : undefined,
        publish: o.publish === 'auto' ? (hasPublishApi(root) ? 'http' : 'broker') : o.publish,
        ...serverDiagnostics(o),
        serverEnv: o.switchboardEnv,
      }),
    socketio: () => socketIo(),
    ws: () => rawWs({ redis: false }),
    'ws-redis': () => rawWs({ redis: true }),
  };
  return o.systems.map((name) => all[name]!());
}

function emit(result: Result): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function summarize(results: Result[]): void {
  const lines: string[] = [
    '',
    'Summary (server = all server processes on the server core; Redis apart):',
  ];
  for (const r of results) {
    const p = r.parameters;
    const m = r.metrics as Record<string, Record<string, unknown> | number | undefined>;
    if (r.scenario === 'A-fanout' || r.scenario === 'B-rooms') {
      const f = m.fixedRate as Record<string, unknown>;
      const lat = f.latency as Record<string, unknown>;
      const size =
        r.scenario === 'A-fanout' ? `${fmt(p.subscribers)} subs` : `${fmt(p.rooms)} rooms`;
      let line =
        `${r.scenario.padEnd(8)} ${r.system.padEnd(11)} ${size.padEnd(11)} ` +
        `fixed ${fmt(f.deliveriesPerSecond)}/s: server ${fmt(f.serverCpuUsPerDelivery)} µs/delivery, ` +
        `p50 ${fmt(lat.p50Ms)} ms, p99 ${fmt(lat.p99Ms)} ms, load gen ${fmt(f.loadGeneratorCpuPercent)}%, ` +
        `run-queue wait server ${fmt(f.serverRunQueueWaitPercent)}% / load gen ${fmt(f.loadGeneratorRunQueueWaitPercent)}%`;
      const s = m.saturation as Record<string, unknown> | undefined;
      if (s) {
        line += ` | max ${fmt(s.deliveriesPerSecond)}/s (server ${fmt(s.serverCpuPercent)}%, redis ${fmt(s.redisCpuPercent)}%, load gen ${fmt(s.loadGeneratorCpuPercent)}%; saturated: ${fmt(s.saturated)})`;
      }
      lines.push(line);
    } else if (r.scenario === 'C-idle') {
      lines.push(
        `${r.scenario.padEnd(8)} ${r.system.padEnd(11)} ${fmt(p.connections)} conns: ` +
          `${fmt(m.kibPerConnection)} KiB/connection, idle server CPU ${fmt(m.idleServerCpuPercent)}%`,
      );
    } else if (r.scenario === 'D-durable') {
      const t = m.targets as Record<string, unknown>;
      const d = m.delivery as Record<string, unknown>;
      lines.push(
        `${r.scenario.padEnd(8)} ${r.system.padEnd(11)} ${fmt(p.topics)} topics: ` +
          `max ${fmt(t.durableEventsPerSecond)} events/s committed and delivered ` +
          `(${fmt(t.atPublishers)} publishers), pgbench ${fmt(t.pgbenchTps)} tps, ratio ${fmt(t.ratio)} ` +
          `(target ≥ ${DURABLE_TARGETS.pgbenchRatio}); at ${fmt(p.fixedRateEventsPerSecond)}/s ` +
          `commit-to-delivery p99 ${fmt(t.p99CommitToDeliveryMs)} ms (target ≤ ${DURABLE_TARGETS.p99Ms}); ` +
          `lost ${fmt(d.lost)}, duplicates ${fmt(d.duplicates)}`,
      );
    } else if (r.scenario === 'E-chat') {
      const f = m.fixedRate as Record<string, unknown>;
      const lat = f.sendToReceive as Record<string, unknown>;
      const d = m.delivery as Record<string, unknown>;
      lines.push(
        `${r.scenario.padEnd(8)} ${r.system.padEnd(11)} ${fmt(p.users)} users, ${fmt(p.channels)} channels: ` +
          `at ${fmt(p.messagesPerSecond)} msg/s sent ${fmt(f.sentPerSecond)}/s, committed ${fmt(f.committedPerSecond)}/s, ` +
          `delivered ${fmt(f.deliveredMessagesPerSecond)} msg/s (${fmt(f.deliveriesPerSecond)} deliveries/s); ` +
          `send-to-receive p50 ${fmt(lat.p50Ms)} / p99 ${fmt(lat.p99Ms)} / max ${fmt(lat.maxMs)} ms ` +
          `(${slowestSecond(lat)}) ` +
          `(target p99 ≤ ${CHAT_TARGETS.p99Ms} at ${CHAT_TARGETS.atMessagesPerSecond}/s); ` +
          `lost ${fmt(d.lost)}, duplicates ${fmt(d.duplicates)}, send errors ${fmt(d.sendErrors)}; ` +
          `server ${fmt(f.serverCpuPercent)}%, PostgreSQL ${fmt(f.postgresCpuPercent)}%, load gen ${fmt(f.loadGeneratorCpuPercent)}%`,
      );
    } else if (r.scenario === 'R-relay') {
      const w = m.webhookResponse as Record<string, unknown>;
      const lat = m.webhookToDelivery as Record<string, unknown>;
      const d = m.delivery as Record<string, unknown>;
      const win = m.window as Record<string, unknown>;
      const t = m.targets as Record<string, unknown>;
      lines.push(
        `${r.scenario.padEnd(8)} ${r.system.padEnd(11)} ${fmt(p.agentStreams)} agent streams, ${fmt(p.conversations)} conversations: ` +
          `at ${fmt(p.webhooksPerSecond)} webhooks/s sent ${fmt(win.webhooksPerSecond)}/s; ` +
          `webhook response p50 ${fmt(w.p50Ms)} / p99 ${fmt(w.p99Ms)} ms (target p99 ≤ ${RELAY_TARGETS.webhookP99Ms}: ${t.webhookP99Met ? 'met' : 'not met'}; ${slowestSecond(w)}); ` +
          `webhook → SSE p50 ${fmt(lat.p50Ms)} / p99 ${fmt(lat.p99Ms)} ms; ` +
          `lost ${fmt(d.lost)}, duplicates ${fmt(d.duplicates)}, webhook errors ${fmt(d.webhookErrors)}; ` +
          `server ${fmt(win.serverCpuPercent)}%, load gen ${fmt(win.loadGeneratorCpuPercent)}%`,
      );
    } else {
      lines.push(`${r.scenario} ${r.system}: ${JSON.stringify(r.metrics)}`);
    }
  }
  const ratios = compare(results);
  if (ratios.length > 0) lines.push('', 'Switchboard vs Socket.IO in this run:', ...ratios);
  console.error(lines.join('\n'));
}

/** Where a tail came from: the second of the window with the highest p99. */
function slowestSecond(latency: Record<string, unknown>): string {
  const seconds = (latency.bySecond ?? []) as SecondLatency[];
  let slowest: SecondLatency | undefined;
  for (const s of seconds) if ((s.p99Ms ?? 0) > (slowest?.p99Ms ?? -1)) slowest = s;
  return slowest
    ? `slowest second ${slowest.second} of ${seconds.length}: p99 ${fmt(slowest.p99Ms)} ms`
    : 'no samples';
}

function compare(results: Result[]): string[] {
  const out: string[] = [];
  const find = (scenario: string, system: string, key: string, value: unknown) =>
    results.find(
      (r) => r.scenario === scenario && r.system === system && r.parameters[key] === value,
    );
  for (const r of results) {
    if (r.system !== 'switchboard') continue;
    if (r.scenario === 'A-fanout' || r.scenario === 'B-rooms') {
      const key = r.scenario === 'A-fanout' ? 'subscribers' : 'rooms';
      const peer = find(r.scenario, 'socketio', key, r.parameters[key]);
      if (!peer) continue;
      const a = r.metrics.fixedRate as Record<string, unknown>;
      const b = peer.metrics.fixedRate as Record<string, unknown>;
      const la = a.latency as Record<string, number | null>;
      const lb = b.latency as Record<string, number | null>;
      const cpu = Number(a.serverCpuUsPerDelivery) / Number(b.serverCpuUsPerDelivery);
      const p99 = Number(la.p99Ms) / Number(lb.p99Ms);
      out.push(
        `${r.scenario} ${key}=${fmt(r.parameters[key])}: CPU/delivery ratio ${cpu.toFixed(2)} (target ≤ 0.33), p99 ratio ${p99.toFixed(2)} (target ≤ 0.5)`,
      );
    } else if (r.scenario === 'C-idle') {
      const peer = find('C-idle', 'ws', 'connections', r.parameters.connections);
      if (!peer) continue;
      const ratio = Number(r.metrics.kibPerConnection) / Number(peer.metrics.kibPerConnection);
      out.push(`C-idle: memory/connection vs raw ws hub ${ratio.toFixed(2)} (target ≤ 1)`);
    }
  }
  return out;
}

/** The Switchboard nodes' profiling and diagnostic options from the command line. */
function serverDiagnostics(o: BenchOptions) {
  return {
    ...(o.serverCpuProfileDir ? { cpuProfileDir: o.serverCpuProfileDir } : {}),
    ...(o.serverOutputDir ? { outputDir: o.serverOutputDir } : {}),
    nodeOptions: o.serverNodeOptions,
  };
}

/** Switchboard for the application scenarios: its nodes take events straight from Redis. */
function switchboardOverBroker(o: BenchOptions, serverEnv: Record<string, string>) {
  return switchboard({
    adminDatabaseUrl: o.adminDatabaseUrl,
    publish: 'broker',
    ...serverDiagnostics(o),
    serverEnv,
  });
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2));
  if ('help' in parsed) {
    console.error(USAGE);
    return;
  }
  if ('error' in parsed) {
    console.error(`${parsed.error}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const o = parsed;
  const limit = openFileLimit();
  const needed =
    Math.max(
      o.scenarios.includes('C') ? o.connections : 0,
      o.scenarios.includes('E') ? o.chat.users : 0,
      o.scenarios.includes('R') ? o.relay.accounts : 0,
      ...o.subscribers,
      o.rooms * 2,
    ) + 500;
  if (limit.soft < needed) {
    console.error(
      `open-file limit is ${limit.soft} (hard ${limit.hard}) but this run needs about ${needed}: ` +
        `the load generator and one server node each hold one descriptor per connection. ` +
        `Raise it (\`ulimit -n ${needed}\`; the hard limit needs root or the container's --ulimit nofile) ` +
        `or pass a smaller --connections / --subscribers / --rooms.`,
    );
    process.exitCode = 2;
    return;
  }
  const ctx: RunContext = { serverCpu: o.serverCpu, redisServer: o.redisServer, root };
  const machine = {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadGeneratorCpus: affinity(),
    serverCpu: o.serverCpu,
    openFileLimit: limit.soft,
    loadAverageAtStart: (await import('node:os')).loadavg().map((v) => Math.round(v * 100) / 100),
  };
  process.stdout.write(
    `${JSON.stringify({ scenario: 'run', system: '-', parameters: o, metrics: machine })}\n`,
  );
  if (machine.loadGeneratorCpus === String(o.serverCpu)) {
    console.error('warning: the load generator is pinned to the server core; use `npm run bench`.');
  }

  // Undone in any case: the machine's PostgreSQL serves more than this run.
  const unpinPostgres = o.postgresCpus ? pinCommand('postgres', o.postgresCpus) : undefined;
  // Exits as the signal would have: 128 + its number (SIGINT 2, SIGTERM 15).
  const interrupted = (signal: NodeJS.Signals) => {
    unpinPostgres?.();
    process.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  if (unpinPostgres) process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    await runScenarios(o, ctx);
  } finally {
    unpinPostgres?.();
  }
}

async function runScenarios(o: BenchOptions, ctx: RunContext): Promise<void> {
  const results: Result[] = [];
  const failures: string[] = [];
  const run = async (label: string, fn: () => Promise<Result>) => {
    console.error(`… ${label}`);
    try {
      const result = await fn();
      results.push(result);
      emit(result);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failures.push(`${label}: ${message}`);
      console.error(`  failed: ${message}`);
    }
  };

  for (const system of systemsFor(o)) {
    if (o.scenarios.includes('A')) {
      for (const subscribers of o.subscribers) {
        await run(`A fan-out ${system.name} ${subscribers} subscribers`, () =>
          fanout(system, ctx, {
            subscribers,
            nodes: o.nodes,
            rate: o.rate,
            warmupSeconds: o.warmup,
            windowSeconds: o.window,
            saturationSeconds: o.saturation,
            inflight: Math.max(1, Math.ceil(o.inflightDeliveries / subscribers)),
          }),
        );
      }
    }
    if (o.scenarios.includes('B')) {
      await run(`B rooms ${system.name} ${o.rooms} rooms`, () =>
        rooms(system, ctx, {
          rooms: o.rooms,
          nodes: o.nodes,
          messagesPerSecond: o.roomRate,
          warmupSeconds: o.warmup,
          windowSeconds: o.window,
        }),
      );
    }
    if (o.scenarios.includes('C') && system.name !== 'ws-redis') {
      await run(`C idle ${system.name} ${o.connections} connections`, () =>
        idle(system, ctx, { connections: o.connections, settleSeconds: 3, idleSeconds: o.idle }),
      );
    }
  }
  // The durable pipeline is Switchboard's own; the peers have nothing to compare.
  if (o.scenarios.includes('D') && o.systems.includes('switchboard')) {
    await run(`D durable pipeline switchboard ${o.durable.topics} topics`, () => {
      if (o.database !== 'postgres') {
        throw new Error('(D) measures PostgreSQL commits: run it with --database=postgres');
      }
      return durable(
        switchboard({
          adminDatabaseUrl: o.adminDatabaseUrl,
          publish: 'http',
          ...serverDiagnostics(o),
          serverEnv: o.switchboardEnv,
        }),
        ctx,
        {
          topics: o.durable.topics,
          subscribers: o.durable.subscribers,
          publishers: o.durable.publishers,
          rate: o.durable.rate,
          warmupSeconds: o.warmup,
          windowSeconds: o.durable.windowSeconds,
          saturationSeconds: o.saturation,
          serverEnv: o.switchboardEnv,
          pgbench: {
            command: o.durable.pgbench,
            clients: o.durable.pgbenchClients,
            threads: o.durable.pgbenchThreads,
            seconds: o.durable.pgbenchSeconds,
          },
        },
      );
    });
  }
  // Team chat is Switchboard's own application; the peers have none.
  if (o.scenarios.includes('E') && o.systems.includes('switchboard')) {
    await run(`E team chat switchboard ${o.chat.users} users ${o.chat.rate} msg/s`, () => {
      if (o.database !== 'postgres') {
        throw new Error('(E) measures chat on PostgreSQL: run it with --database=postgres');
      }
      const serverEnv = { ...CHAT_SERVER_ENV, ...o.switchboardEnv };
      return chat(switchboardOverBroker(o, serverEnv), ctx, {
        users: o.chat.users,
        channels: o.chat.channels,
        nodes: o.nodes,
        rate: o.chat.rate,
        postgresCpus: o.postgresCpus,
        warmupSeconds: o.chat.warmupSeconds,
        windowSeconds: o.chat.windowSeconds,
        serverEnv,
      });
    });
  }
  // The Kakao relay is Switchboard's own application too.
  if (o.scenarios.includes('R') && o.systems.includes('switchboard')) {
    const r = o.relay;
    await run(`R relay switchboard ${r.accounts} agent streams ${r.rate} webhooks/s`, () => {
      if (o.database !== 'postgres') {
        throw new Error('(R) measures the relay on PostgreSQL: run it with --database=postgres');
      }
      const serverEnv = { ...RELAY_SERVER_ENV, ...o.switchboardEnv };
      return relay(switchboardOverBroker(o, serverEnv), ctx, {
        nodes: o.nodes,
        accounts: r.accounts,
        conversations: r.conversations,
        rate: r.rate,
        postgresCpus: o.postgresCpus,
        warmupSeconds: r.warmupSeconds,
        windowSeconds: r.windowSeconds,
        serverEnv,
      });
    });
  }
  summarize(results);
  if (failures.length > 0) {
    console.error(`\n${failures.length} run(s) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

await main();
