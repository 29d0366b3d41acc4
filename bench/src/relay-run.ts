// `node --import tsx src/relay-run.ts [flags]` (from bench/, pinned like `npm run bench`): the
// relay scenario (R) on its own, printing the run line and the result as JSON lines on stdout
// and a summary on stderr, in the format of `npm run bench`. See docs/benchmarks.md.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { relay, RELAY_TARGETS, type RelayOptions } from './relay.js';
import { switchboard } from './systems/switchboard.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const RELAY_USAGE = `usage: taskset -c 0 node --import tsx src/relay-run.ts [flags]   (from bench/)
  --nodes=2              Switchboard nodes on one PostgreSQL database and one Redis
  --accounts=100         agent accounts, one SSE stream each (GET /v1/events)
  --conversations=1000   paired Kakao conversations, spread evenly over the accounts
  --rate=500             webhooks per second, round-robin over the nodes
  --warmup=2 --window=30 seconds of warm-up and of the measured window
  --server-cpu=1         core the servers and their Redis are pinned to
  --switchboard-env=KEY=VALUE,…  extra configuration for the nodes
  BENCH_ADMIN_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) gets a scratch
  database; the server must be built (npm run build).`;

interface Flags extends RelayOptions {
  serverCpu: number;
  adminDatabaseUrl: string;
  redisServer: string;
}

function parse(argv: readonly string[]): Flags | { help: true } {
  const flags: Flags = {
    nodes: 2,
    accounts: 100,
    conversations: 1000,
    rate: 500,
    warmupSeconds: 2,
    windowSeconds: 30,
    serverEnv: {},
    serverCpu: 1,
    adminDatabaseUrl:
      process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisServer: process.env.BENCH_REDIS_SERVER ?? 'redis-server',
  };
  const int = (value: string, min: number, max: number, name: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} takes an integer from ${min} to ${max}`);
    }
    return n;
  };
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return { help: true };
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!match) throw new Error(`unknown argument: ${arg}`);
    const [, key = '', value = ''] = match;
    switch (key) {
      case 'nodes':
        flags.nodes = int(value, 1, 4, key);
        break;
      case 'accounts':
        flags.accounts = int(value, 1, 10_000, key);
        break;
      case 'conversations':
        flags.conversations = int(value, 1, 1_000_000, key);
        break;
      case 'rate':
        flags.rate = int(value, 1, 100_000, key);
        break;
      case 'warmup':
        flags.warmupSeconds = int(value, 0, 60, key);
        break;
      case 'window':
        flags.windowSeconds = int(value, 1, 600, key);
        break;
      case 'server-cpu':
        flags.serverCpu = int(value, 0, 1023, key);
        break;
      case 'switchboard-env': {
        const env: Record<string, string> = {};
        for (const item of value.split(',').filter(Boolean)) {
          const pair = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(item.trim());
          if (!pair) throw new Error(`--switchboard-env takes KEY=VALUE pairs; got ${item}`);
          env[pair[1]!] = pair[2]!;
        }
        flags.serverEnv = env;
        break;
      }
      default:
        throw new Error(`unknown flag: --${key}`);
    }
  }
  if (flags.conversations < flags.accounts) {
    throw new Error('--conversations must be at least --accounts (each account needs one)');
  }
  return flags;
}

async function main(): Promise<void> {
  let flags: Flags;
  try {
    const parsed = parse(process.argv.slice(2));
    if ('help' in parsed) {
      console.error(RELAY_USAGE);
      return;
    }
    flags = parsed;
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${RELAY_USAGE}`);
    process.exitCode = 2;
    return;
  }
  const affinity =
    /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ??
    'unknown';
  process.stdout.write(
    `${JSON.stringify({
      scenario: 'run',
      system: '-',
      parameters: flags,
      metrics: {
        nproc: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        loadGeneratorCpus: affinity,
        serverCpu: flags.serverCpu,
        loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
      },
    })}\n`,
  );
  const serverEnv = { RELAY_CALLBACK_INSECURE_HOSTS: '127.0.0.1', ...flags.serverEnv };
  const system = switchboard({
    adminDatabaseUrl: flags.adminDatabaseUrl,
    publish: 'broker',
    serverEnv,
  });
  console.error(
    `… R relay: ${flags.nodes} nodes, ${flags.accounts} streams, ${flags.conversations} conversations, ${flags.rate} webhooks/s`,
  );
  try {
    const result = await relay(
      system,
      { serverCpu: flags.serverCpu, redisServer: flags.redisServer, root },
      {
        ...flags,
        serverEnv,
      },
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    const m = result.metrics as Record<string, Record<string, unknown>>;
    const w = m.webhookResponse!;
    const d = m.webhookToDelivery!;
    const t = m.targets!;
    const del = m.delivery!;
    const win = m.window!;
    console.error(
      `R-relay  switchboard ${flags.nodes} nodes ${flags.accounts} streams: ` +
        `${String(win.webhooksPerSecond)} webhooks/s, webhook p50 ${String(w.p50Ms)} ms, p99 ${String(w.p99Ms)} ms ` +
        `(target ≤ ${RELAY_TARGETS.webhookP99Ms}: ${t.webhookP99Met ? 'met' : 'not met'}); ` +
        `webhook → SSE p50 ${String(d.p50Ms)} ms, p99 ${String(d.p99Ms)} ms; ` +
        `lost ${String(del.lost)}, duplicates ${String(del.duplicates)}, webhook errors ${String(del.webhookErrors)}; ` +
        `server CPU ${String(win.serverCpuPercent)}%, load gen ${String(win.loadGeneratorCpuPercent)}%; ` +
        `inbound statuses ${JSON.stringify(del.inboundStatuses)}`,
    );
  } catch (err) {
    console.error(`  failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

await main();
