// Command-line flags of `npm run bench`, validated, with defaults sized so a full run ends in
// about 15 minutes on a 2-core machine.
export interface BenchOptions {
  scenarios: string[];
  systems: string[];
  subscribers: number[];
  nodes: number;
  rate: number;
  rooms: number;
  roomRate: number;
  connections: number;
  warmup: number;
  window: number;
  saturation: number;
  idle: number;
  inflightDeliveries: number;
  publish: 'auto' | 'http' | 'broker';
  database: 'postgres' | 'embedded';
  adminDatabaseUrl: string;
  serverCpu: number;
  /** CPUs PostgreSQL's processes are pinned to for the run (`taskset` list); unset: not pinned. */
  postgresCpus: string | undefined;
  redisServer: string;
  durable: DurableFlags;
  chat: ChatFlags;
  relay: RelayFlags;
  /** Directory for the Switchboard nodes' V8 CPU profiles (`node --cpu-prof`); off when unset. */
  serverCpuProfileDir: string | undefined;
  /** Extra `node` options for every Switchboard node (`--trace-gc`, `--max-semi-space-size=2`). */
  serverNodeOptions: string[];
  /** Directory that gets each Switchboard node's stdout and stderr; off when unset. */
  serverOutputDir: string | undefined;
  /** Extra configuration for every Switchboard node, e.g. DATABASE_POOL_MAX. */
  switchboardEnv: Record<string, string>;
}

/** (D) the durable pipeline. */
export interface DurableFlags {
  topics: number;
  subscribers: number;
  /** Concurrent closed-loop publishers, one saturation window per value. */
  publishers: number[];
  /** Events per second in the fixed-rate window. */
  rate: number;
  windowSeconds: number;
  pgbenchClients: number;
  pgbenchThreads: number;
  pgbenchSeconds: number;
  pgbench: string;
}

/** (E) team chat. */
export interface ChatFlags {
  users: number;
  channels: number;
  /** Messages per second over all senders. */
  rate: number;
  /** Seconds of load before the window: the nodes start cold (JIT, pools, caches). */
  warmupSeconds: number;
  windowSeconds: number;
}

/** (R) the Kakao relay. */
export interface RelayFlags {
  accounts: number;
  conversations: number;
  /** Webhooks per second over all nodes. */
  rate: number;
  /** Seconds of load before the window: the nodes start cold (JIT, pools, caches). */
  warmupSeconds: number;
  windowSeconds: number;
}

const SCENARIOS = ['A', 'B', 'C', 'D', 'E', 'R'];
const SYSTEMS = ['switchboard', 'socketio', 'ws', 'ws-redis'];

export const USAGE = `usage: npm run bench -- [flags]
  --scenario=A,B,C,D,E,R    A fan-out, B two-person rooms, C idle connections, D durable
                            pipeline, E team chat, R Kakao relay (D, E and R: Switchboard
                            only, need --database=postgres; default all)
  --systems=${SYSTEMS.join(',')}   (default all; ws is the single-node hub)
  --subscribers=1000,5000   (A) subscribers of the one topic
  --nodes=2                 (A, B, E, R) server nodes joined by Redis
  --rate=20000              (A) deliveries per second in the fixed-rate window
  --rooms=1000              (B) two-person rooms
  --room-rate=500           (B) messages per second over all rooms (2 deliveries each)
  --connections=19000       (C) idle connections on one node
  --warmup=2 --window=10    seconds of warm-up and of the measured fixed-rate window
  --saturation=8            (A) seconds of the closed-loop maximum-throughput window
  --inflight-deliveries=40000  (A) deliveries kept in flight in that window (messages × subscribers)
  --publish=auto|http|broker  how events enter Switchboard: the HTTP publish API (auto: when the
                            build has it) or straight into its Redis broker
  --idle=30                 (C) seconds of the idle CPU window
  --database=postgres|embedded  Switchboard's store (BENCH_ADMIN_DATABASE_URL, default
                            postgres://postgres@127.0.0.1:5432/postgres, gets a scratch database)
  --server-cpu=1            core the servers and their Redis are pinned to
  --postgres-cpus=0         pin every postgres process (and the backends it forks) to these CPUs
                            for the run, and give them back their CPUs after it (default: as the
                            machine runs it, on any core)
  --server-cpu-prof=DIR     write each Switchboard node's V8 CPU profile (node --cpu-prof) to DIR
  --server-node-options="--trace-gc …"  extra node options for every Switchboard node
  --server-output=DIR       append each Switchboard node's stdout and stderr to DIR/<node>.log
  --switchboard-env=KEY=VALUE,…  extra configuration for the Switchboard nodes (results record it)
  --durable-topics=16       (D) durable topics durable.bench.<i> the events are spread over
  --durable-subscribers=2   (D) WebSocket subscribers, each on every durable topic
  --durable-publishers=16,64  (D) concurrent HTTP publishers in the closed-loop windows (one each)
  --durable-rate=1000       (D) events per second in the fixed-rate window
  --durable-window=15       (D) seconds of that window (after --warmup)
  --pgbench-clients=8 --pgbench-threads=2 --pgbench-seconds=15
                            (D) pgbench single-row inserts on the same database (BENCH_PGBENCH,
                            default pgbench)
  --chat-users=1000         (E) users, each with its own WebSocket connection
  --chat-channels=100       (E) channels; user u is a member of channel u mod channels
  --chat-rate=1000          (E) messages per second over all users (WebSocket send op)
  --chat-warmup=10          (E) seconds of load before the window (the nodes start cold)
  --chat-window=20          (E) seconds of the measured window (after --chat-warmup)
  --relay-accounts=100      (R) agent accounts, one SSE stream each (GET /v1/events)
  --relay-conversations=1000  (R) paired Kakao conversations, spread evenly over the accounts
  --relay-rate=500          (R) webhooks per second, round-robin over the nodes
  --relay-warmup=10         (R) seconds of load before the window (the nodes start cold)
  --relay-window=30         (R) seconds of the measured window (after --relay-warmup)`;

function ints(value: string, min: number, max: number, name: string): number[] {
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((v) => !Number.isInteger(v) || v < min || v > max)) {
    throw new Error(`--${name} takes integers from ${min} to ${max}, comma-separated`);
  }
  return list;
}

function int(value: string, min: number, max: number, name: string): number {
  const list = ints(value, min, max, name);
  if (list.length !== 1) throw new Error(`--${name} takes one integer`);
  return list[0]!;
}

function names(value: string, allowed: readonly string[], name: string): string[] {
  const list = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = list.filter((v) => !allowed.includes(v));
  if (list.length === 0 || unknown.length > 0) {
    throw new Error(
      `--${name} takes ${allowed.join(', ')}; got ${unknown.join(', ') || 'nothing'}`,
    );
  }
  return [...new Set(list)];
}

function envList(value: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of value.split(',').filter(Boolean)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(item.trim());
    if (!match)
      throw new Error(`--switchboard-env takes KEY=VALUE pairs, comma-separated; got ${item}`);
    env[match[1]!] = match[2]!;
  }
  return env;
}

export function parseOptions(
  argv: readonly string[],
): BenchOptions | { help: true } | { error: string } {
  const o: BenchOptions = {
    scenarios: SCENARIOS,
    systems: SYSTEMS,
    subscribers: [1000, 5000],
    nodes: 2,
    rate: 20_000,
    rooms: 1000,
    roomRate: 500,
    connections: 19_000,
    warmup: 2,
    window: 10,
    saturation: 8,
    idle: 30,
    inflightDeliveries: 40_000,
    publish: 'auto',
    database: 'postgres',
    adminDatabaseUrl:
      process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    serverCpu: 1,
    postgresCpus: undefined,
    redisServer: process.env.BENCH_REDIS_SERVER ?? 'redis-server',
    durable: {
      topics: 16,
      subscribers: 2,
      publishers: [16, 64],
      rate: 1000,
      windowSeconds: 15,
      pgbenchClients: 8,
      pgbenchThreads: 2,
      pgbenchSeconds: 15,
      pgbench: process.env.BENCH_PGBENCH ?? 'pgbench',
    },
    chat: { users: 1000, channels: 100, rate: 1000, warmupSeconds: 10, windowSeconds: 20 },
    relay: { accounts: 100, conversations: 1000, rate: 500, warmupSeconds: 10, windowSeconds: 30 },
    serverCpuProfileDir: undefined,
    serverNodeOptions: [],
    serverOutputDir: undefined,
    switchboardEnv: {},
  };
  try {
    for (const arg of argv) {
      if (arg === '--help' || arg === '-h') return { help: true };
      const match = /^--([a-z-]+)=(.*)$/.exec(arg);
      if (!match) throw new Error(`unknown argument: ${arg}`);
      const [, key, value = ''] = match;
      switch (key) {
        case 'scenario':
        case 'scenarios':
          o.scenarios = names(value.toUpperCase(), SCENARIOS, key);
          break;
        case 'systems':
        case 'system':
          o.systems = names(value, SYSTEMS, key);
          break;
        case 'subscribers':
          o.subscribers = ints(value, 1, 100_000, key);
          break;
        case 'nodes':
          o.nodes = int(value, 1, 4, key);
          break;
        case 'rate':
          o.rate = int(value, 1, 1_000_000, key);
          break;
        case 'rooms':
          o.rooms = int(value, 1, 50_000, key);
          break;
        case 'room-rate':
          o.roomRate = int(value, 1, 1_000_000, key);
          break;
        case 'connections':
          o.connections = int(value, 1, 200_000, key);
          break;
        case 'warmup':
          o.warmup = int(value, 0, 60, key);
          break;
        case 'window':
          o.window = int(value, 1, 300, key);
          break;
        case 'saturation':
          o.saturation = int(value, 1, 300, key);
          break;
        case 'idle':
          o.idle = int(value, 1, 600, key);
          break;
        case 'inflight-deliveries':
          o.inflightDeliveries = int(value, 1, 10_000_000, key);
          break;
        case 'publish':
          if (value !== 'auto' && value !== 'http' && value !== 'broker') {
            throw new Error('--publish takes auto, http or broker');
          }
          o.publish = value;
          break;
        case 'database':
          if (value !== 'postgres' && value !== 'embedded')
            throw new Error('--database takes postgres or embedded');
          o.database = value;
          break;
        case 'server-cpu':
          o.serverCpu = int(value, 0, 1023, key);
          break;
        case 'postgres-cpus':
          if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) {
            throw new Error('--postgres-cpus takes a CPU list such as 0 or 0,2-3');
          }
          o.postgresCpus = value;
          break;
        case 'server-cpu-prof':
          if (!value) throw new Error('--server-cpu-prof takes a directory');
          o.serverCpuProfileDir = value;
          break;
        case 'server-node-options':
          o.serverNodeOptions = value.split(/\s+/).filter(Boolean);
          if (o.serverNodeOptions.some((option) => !option.startsWith('-'))) {
            throw new Error('--server-node-options takes node options, each starting with -');
          }
          break;
        case 'server-output':
          if (!value) throw new Error('--server-output takes a directory');
          o.serverOutputDir = value;
          break;
        case 'switchboard-env':
          o.switchboardEnv = envList(value);
          break;
        case 'durable-topics':
          o.durable.topics = int(value, 1, 10_000, key);
          break;
        case 'durable-subscribers':
          o.durable.subscribers = int(value, 1, 1000, key);
          break;
        case 'durable-publishers':
          o.durable.publishers = ints(value, 1, 1000, key);
          break;
        case 'durable-rate':
          o.durable.rate = int(value, 1, 100_000, key);
          break;
        case 'durable-window':
          o.durable.windowSeconds = int(value, 1, 300, key);
          break;
        case 'pgbench-clients':
          o.durable.pgbenchClients = int(value, 1, 1000, key);
          break;
        case 'pgbench-threads':
          o.durable.pgbenchThreads = int(value, 1, 64, key);
          break;
        case 'pgbench-seconds':
          o.durable.pgbenchSeconds = int(value, 1, 600, key);
          break;
        case 'chat-users':
          o.chat.users = int(value, 1, 100_000, key);
          break;
        case 'chat-channels':
          o.chat.channels = int(value, 1, 10_000, key);
          break;
        case 'chat-rate':
          o.chat.rate = int(value, 1, 100_000, key);
          break;
        case 'chat-warmup':
          o.chat.warmupSeconds = int(value, 0, 600, key);
          break;
        case 'chat-window':
          o.chat.windowSeconds = int(value, 1, 600, key);
          break;
        case 'relay-accounts':
          o.relay.accounts = int(value, 1, 10_000, key);
          break;
        case 'relay-conversations':
          o.relay.conversations = int(value, 1, 1_000_000, key);
          break;
        case 'relay-rate':
          o.relay.rate = int(value, 1, 100_000, key);
          break;
        case 'relay-warmup':
          o.relay.warmupSeconds = int(value, 0, 600, key);
          break;
        case 'relay-window':
          o.relay.windowSeconds = int(value, 1, 600, key);
          break;
        default:
          throw new Error(`unknown flag: --${key}`);
      }
    }
    if (o.durable.pgbenchThreads > o.durable.pgbenchClients) {
      throw new Error('--pgbench-threads cannot exceed --pgbench-clients (pgbench refuses it)');
    }
    if (o.relay.conversations < o.relay.accounts) {
      throw new Error('--relay-conversations must be at least --relay-accounts (one each)');
    }
    if (o.chat.users % o.chat.channels !== 0) {
      throw new Error('--chat-users must be a multiple of --chat-channels (equal channels)');
    }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  return o;
}
