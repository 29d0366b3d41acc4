// Heap per idle connection, measured instead of sampled: a server runs under `--expose-gc` with
// the heap probe preloaded; this process opens N idle connections, has the server collect fully,
// and divides the heap growth by N. Unlike RSS (scenario C), the result hardly moves with machine
// load, so it can decide whether a change to the connection path saved memory. With
// --snapshot-dir the server also writes a heap snapshot with the connections open, to see what
// each one retains (Chrome DevTools → Memory → Load; compare with the baseline snapshot). It also
// reports what the server allocated while the connections opened, garbage included, per
// handshake and by place: the churn behind scenario C's heap growth.
//
//   npm run build && node --import tsx bench/src/idle-heap.ts [--systems=switchboard,ws]
//        [--connections=2000] [--redis] [--server=server/bin/switchboard.js] [--snapshot-dir=DIR]
//
// The server runs compiled, as in production: under tsx, esbuild's keepNames gives every named
// arrow function a property store of its own, which would be counted against each connection.
// --redis gives Switchboard a private Redis (presence and the broker's state live there, as in
// scenario C); without it, the in-memory broker and presence store keep theirs in the heap.
// Prints one JSON line per system on stdout and a summary on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type WebSocket from 'ws';
import type { HeapReading, ProbeAsk, ProbeReply } from './heap-probe.js';
import { signHs256 } from './jwt.js';
import { delay, freePort } from './procs.js';
import { startRedis } from './redis-instance.js';
import { openSocket } from './systems/client-socket.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const probe = fileURLToPath(new URL('./heap-probe.ts', import.meta.url));

interface Flags {
  systems: string[];
  connections: number;
  warmup: number;
  redis: boolean;
  server: string;
  snapshotDir: string | undefined;
}

function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = {
    systems: ['switchboard', 'ws'],
    connections: 2000,
    warmup: 0,
    redis: false,
    server: join(root, 'server/bin/switchboard.js'),
    snapshotDir: undefined,
  };
  for (const arg of argv) {
    const [name, value = ''] = arg.replace(/^--/, '').split('=', 2);
    if (name === 'systems') flags.systems = value.split(',').filter(Boolean);
    else if (name === 'connections') flags.connections = positive(name, value);
    else if (name === 'warmup') flags.warmup = positive(name, value);
    else if (name === 'redis') flags.redis = value !== 'false';
    else if (name === 'server') flags.server = value;
    else if (name === 'snapshot-dir') flags.snapshotDir = value || undefined;
    else throw new Error(`unknown flag ${arg}`);
  }
  for (const system of flags.systems) {
    if (system !== 'switchboard' && system !== 'ws') throw new Error(`unknown system ${system}`);
  }
  // A warm-up as large as the measured set leaves the JIT's code out of the difference.
  if (flags.warmup === 0) flags.warmup = flags.connections;
  return flags;
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

interface Server {
  readonly url: string;
  /** Opens one idle connection, resolved once the server has set it up completely. */
  connect(index: number): Promise<WebSocket>;
  request(request: ProbeAsk): Promise<ProbeReply>;
  stop(): Promise<void>;
}

function startChild(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string; request: Server['request'] } {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--import', probe, ...args],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let nextId = 0;
  const waiting = new Map<number, (reply: ProbeReply) => void>();
  child.on('message', (reply: ProbeReply) => waiting.get(reply.id)?.(reply));
  return {
    child,
    output: () => log,
    request(request) {
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no probe reply`)), 120_000);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(reply);
        });
        child.send({ ...request, id });
      });
    },
  };
}

async function untilListening(url: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited during start-up:\n${output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return;
    } catch {
      await delay(200);
    }
  }
  throw new Error(`server did not answer at ${url}:\n${output()}`);
}

function stopper(child: ChildProcess, cleanup: () => void = () => undefined) {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };
}

async function startSwitchboard(flags: Flags): Promise<Server> {
  if (!existsSync(flags.server)) {
    throw new Error(
      `no server at ${flags.server}: run \`npm run build\` in the repository root first`,
    );
  }
  const redis = flags.redis ? await startRedis(1, 'redis-server') : undefined;
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-idle-heap-'));
  const secret = randomBytes(32).toString('hex');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    INSTANCE_ID: `idle-heap-${process.pid}`,
    DATA_DIR: dataDir,
    CONFIG_DIR: join(root, 'config'),
    JWT_SECRET: secret,
    GRPC_ENABLED: 'false',
    ...(redis ? { REDIS_URL: redis.url } : {}),
  };
  const { child, output, request } = startChild('switchboard', [flags.server, 'serve'], env);
  const url = `http://127.0.0.1:${port}`;
  const stopServer = stopper(child, () => rmSync(dataDir, { recursive: true, force: true }));
  const stop = async () => {
    await stopServer();
    await redis?.stop();
  };
  try {
    await untilListening(`${url}/readyz`, child, output);
  } catch (err) {
    await stop();
    throw err;
  }
  const expires = Math.floor(Date.now() / 1000) + 3600;
  return {
    url,
    request,
    stop,
    async connect(index) {
      // As in scenario C: each connection a different user, authenticated in the handshake.
      const token = signHs256(secret, { sub: `idle-${index}`, topics: ['bench.*'], exp: expires });
      let connected!: () => void;
      const ready = new Promise<void>((resolve) => (connected = resolve));
      const socket = await openSocket(
        `${url.replace(/^http/, 'ws')}/ws?token=${token}`,
        '127.0.0.1',
        (frame) => {
          if (frame.includes('"op":"connected"')) connected();
        },
      );
      await ready;
      return socket;
    },
  };
}

async function startRawWs(): Promise<Server> {
  const port = await freePort();
  const { child, output, request } = startChild('ws', ['bench/src/servers/raw-ws-server.ts'], {
    PATH: process.env.PATH,
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child);
  try {
    await untilListening(url, child, output);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    request,
    stop,
    connect: () => openSocket(`ws://127.0.0.1:${port}`, '127.0.0.1'),
  };
}

async function openMany(server: Server, from: number, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  const parallel = 50;
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
      server.connect(from + i + j),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.close();
        }),
    ),
  );
}

async function measure(server: Server): Promise<HeapReading> {
  // Batched bookkeeping (presence writes every 100 ms) settles before the reading.
  await delay(500);
  const reply = await server.request({ probe: 'measure' });
  if (reply.probe !== 'measured') throw new Error('unexpected probe reply');
  return reply.reading;
}

function perConnection(after: HeapReading, before: HeapReading, n: number) {
  const per = (key: keyof HeapReading) => Math.round((after[key] - before[key]) / n);
  return {
    heapBytes: per('heapUsed'),
    externalBytes: per('external'),
    arrayBufferBytes: per('arrayBuffers'),
    rssBytes: per('rss'),
  };
}

async function run(system: string, flags: Flags) {
  const server = system === 'switchboard' ? await startSwitchboard(flags) : await startRawWs();
  try {
    // JIT code, lazily loaded modules and pools grow on first use: they belong in the baseline.
    await closeAll(await openMany(server, 0, flags.warmup));
    const before = await measure(server);
    if (flags.snapshotDir) {
      await server.request({
        probe: 'snapshot',
        path: join(flags.snapshotDir, `${system}-before.heapsnapshot`),
      });
    }
    await server.request({ probe: 'sample-allocations' });
    const sockets = await openMany(server, flags.warmup, flags.connections);
    const open = await measure(server);
    const allocated = await server.request({ probe: 'allocations' });
    if (allocated.probe !== 'allocated') throw new Error('unexpected probe reply');
    if (flags.snapshotDir) {
      await server.request({
        probe: 'snapshot',
        path: join(flags.snapshotDir, `${system}-open.heapsnapshot`),
      });
    }
    await closeAll(sockets);
    const closed = await measure(server);
    if (flags.snapshotDir) {
      await server.request({
        probe: 'snapshot',
        path: join(flags.snapshotDir, `${system}-closed.heapsnapshot`),
      });
    }
    return {
      scenario: 'idle-heap',
      system,
      parameters: {
        connections: flags.connections,
        warmup: flags.warmup,
        redis: flags.redis && system === 'switchboard',
      },
      metrics: {
        perConnection: perConnection(open, before, flags.connections),
        /** Allocated while the connections opened, garbage included: what a handshake costs. */
        allocatedBytesPerConnection: Math.round(allocated.reading.totalBytes / flags.connections),
        allocatedBytesPerConnectionByPlace: Object.fromEntries(
          Object.entries(allocated.reading.byPlace)
            .sort(([, a], [, b]) => b - a)
            .slice(0, 12)
            .map(([place, bytes]) => [place, Math.round(bytes / flags.connections)]),
        ),
        /** What stays behind per connection once they all closed (a leak when well above 0). */
        residualHeapBytesPerConnection: Math.round(
          (closed.heapUsed - before.heapUsed) / flags.connections,
        ),
        before,
        open,
        closed,
      },
    };
  } finally {
    await server.stop();
  }
}

const flags = parseFlags(process.argv.slice(2));
for (const system of flags.systems) {
  const result = await run(system, flags);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const p = result.metrics.perConnection;
  process.stderr.write(
    `${system}: ${flags.connections} idle connections: heap ${p.heapBytes} B, external ${p.externalBytes} B, ` +
      `RSS ${p.rssBytes} B per connection; after closing them ${result.metrics.residualHeapBytesPerConnection} B left each; ` +
      `${result.metrics.allocatedBytesPerConnection} B allocated per handshake\n`,
  );
}
