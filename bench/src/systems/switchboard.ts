// Switchboard under test: `serve` processes from the built CLI sharing a private Redis and one
// PostgreSQL database (or each its own embedded PGlite), clients on /ws with an HS256 token that
// grants `bench.*` and the durable `durable.*`. Events enter through the HTTP publish API or the
// Redis broker the server itself uses, encoded as the server encodes.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Broker } from '../../../server/src/broker/index.js';
import { createRedisBroker } from '../../../server/src/broker/redis-broker.js';
import { createLogger } from '../../../server/src/observability/logger.js';
import { encodeEvent } from '../../../server/src/realtime/event-encoding.js';
import { signHs256 } from '../jwt.js';
import { freePort, spawnPinned, waitForHttp, type Pinned } from '../procs.js';
import { startRedis } from '../redis-instance.js';
import { openSocket, waitForFrame } from './client-socket.js';
import type { Client, ClientOptions, Cluster, RunContext, System } from './system.js';

// The server's defaults (REALTIME_HISTORY_SIZE / _TTL_SECONDS): the broker publishes exactly as
// the hub would.
const HISTORY = { maxLength: 1000, ttlSeconds: 86_400 };
const EVENT_PREFIX = Buffer.from('{"op":"event"');

export interface SwitchboardOptions {
  /** postgres:// URL of a server where a scratch database may be created; else embedded PGlite. */
  readonly adminDatabaseUrl?: string;
  /**
   * `http`: POST /api/v1/publish on node 0 with a server API key (the path other backends use);
   * `broker`: straight into the Redis broker, bypassing the server's ingress.
   */
  readonly publish: 'http' | 'broker';
  /** Extra server configuration (e.g. DATABASE_POOL_MAX). */
  readonly serverEnv?: Readonly<Record<string, string>>;
  /** Write each node's V8 CPU profile here when it exits (`node --cpu-prof`). */
  readonly cpuProfileDir?: string;
  /** Extra `node` options for each node. */
  readonly nodeOptions?: readonly string[];
  /** Append each node's stdout and stderr to `<dir>/switchboard-<i>.log`. */
  readonly outputDir?: string;
}

/** What the durable scenario needs beyond a cluster: the database and the publish API. */
export interface SwitchboardCluster extends Cluster {
  /** http:// base address per node. */
  readonly httpUrls: readonly string[];
  /** The scratch PostgreSQL database, when not embedded. */
  readonly databaseUrl: string | undefined;
  /** A server API key with the publish scope, when publishing over HTTP. */
  readonly apiKey: string | undefined;
}

export interface SwitchboardSystem extends System {
  start(ctx: RunContext, nodes: number): Promise<SwitchboardCluster>;
}

/** Whether the built server has the publish API (`apikey create`, POST /api/v1/publish). */
export function hasPublishApi(root: string): boolean {
  const cli = join(root, 'server/dist/cli.js');
  return (
    existsSync(join(root, 'server/dist/push/index.js')) &&
    existsSync(cli) &&
    readFileSync(cli, 'utf8').includes("'apikey'")
  );
}

export function switchboard(options: SwitchboardOptions): SwitchboardSystem {
  const secret = randomBytes(32).toString('hex');
  const expires = Math.floor(Date.now() / 1000) + 6 * 3600;
  let nextId = 0;

  return {
    name: 'switchboard',
    clustered: true,

    async start(ctx: RunContext, nodes: number): Promise<SwitchboardCluster> {
      const cli = join(ctx.root, 'server/bin/switchboard.js');
      if (!existsSync(join(ctx.root, 'server/dist/cli.js'))) {
        throw new Error(
          'the server is not built: run `npm run build` in the repository root first',
        );
      }
      const redis = await startRedis(ctx.serverCpu, ctx.redisServer);
      const dataDirs: string[] = [];
      const servers: Pinned[] = [];
      let database: { url: string; drop(): void } | undefined;
      let broker: Broker | undefined;
      const cleanup = async () => {
        await Promise.all(servers.map((s) => s.stop()));
        await broker?.close().catch(() => undefined);
        await redis.stop();
        database?.drop();
        for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      };
      try {
        if (options.adminDatabaseUrl) database = createScratchDatabase(options.adminDatabaseUrl);
        const urls: string[] = [];
        let apiKey: string | undefined;
        for (let i = 0; i < nodes; i++) {
          const port = await freePort();
          const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-data-'));
          dataDirs.push(dataDir);
          const env: NodeJS.ProcessEnv = {
            PATH: process.env.PATH,
            HOST: '127.0.0.1',
            PORT: String(port),
            LOG_LEVEL: 'warn',
            INSTANCE_ID: `bench-${i}`,
            DATA_DIR: dataDir,
            CONFIG_DIR: join(ctx.root, 'config'),
            REDIS_URL: redis.url,
            JWT_SECRET: secret,
            // Nodes share a host: the gRPC listener's fixed default port would collide.
            GRPC_ENABLED: 'false',
            ...(database ? { DATABASE_URL: database.url } : {}),
            ...options.serverEnv,
          };
          if (i === 0 && options.publish === 'http') {
            // Before node 0 starts: with embedded PGlite its data directory is then locked.
            apiKey = createApiKey(cli, env, ctx.root);
          }
          const profile = options.cpuProfileDir
            ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]
            : [];
          const server = spawnPinned(
            `switchboard node ${i}`,
            ctx.serverCpu,
            process.execPath,
            [...profile, ...(options.nodeOptions ?? []), cli, 'serve'],
            env,
            ctx.root,
            outputFile(options.outputDir, `switchboard-${i}.log`),
          );
          servers.push(server);
          // One at a time: they would only queue on the migration lock anyway.
          await waitForHttp(server, `http://127.0.0.1:${port}/readyz`, 120_000);
          urls.push(`ws://127.0.0.1:${port}`);
        }
        const base = {
          nodes: urls,
          httpUrls: urls.map((u) => u.replace(/^ws:/, 'http:')),
          databaseUrl: database?.url,
          apiKey,
          servers,
          redis: redis.process,
          stop: cleanup,
        };
        if (apiKey !== undefined) {
          const http = httpPublisher(urls[0]!.replace(/^ws:/, 'http:'), apiKey);
          return {
            ...base,
            publishPath: 'HTTP POST /api/v1/publish on node 0 (keep-alive, API key)',
            publish: http.publish,
            stop: async () => {
              http.close();
              await cleanup();
            },
          };
        }
        broker = await createRedisBroker({
          url: redis.url,
          logger: createLogger({ level: 'warn', instanceId: 'bench', destination: process.stderr }),
          mode: 'perconv',
        });
        const publisher = broker;
        return {
          ...base,
          publishPath: 'redis broker (createRedisBroker.publish with history, encodeEvent)',
          publish(topic, body) {
            // The body is `{"t":…,"n":…}`; encodeEvent puts `type` first, as the hub would.
            const event = JSON.parse(body) as Record<string, unknown>;
            publisher
              .publish(topic, encodeEvent({ type: 'bench', ...event }), HISTORY)
              .catch((err: unknown) => {
                reportPublishError(err instanceof Error ? err.message : String(err));
              });
          },
          stop: cleanup,
        };
      } catch (err) {
        await cleanup();
        throw err;
      }
    },

    async connect(node: string, client: ClientOptions): Promise<Client> {
      const token = signHs256(secret, {
        sub: `bench-${client.index}`,
        topics: ['bench.*', 'durable.*'],
        exp: expires,
      });
      const socket = await openSocket(`${node}/ws?token=${token}`, client.localAddress);
      socket.on('message', (data: Buffer) => {
        if (data.subarray(0, EVENT_PREFIX.length).equals(EVENT_PREFIX)) client.onEvent(data);
      });
      socket.on('close', (code) => client.onClose(code));
      return {
        async subscribe(topic) {
          const id = ++nextId;
          const idFields = [Buffer.from(`"id":${id},`), Buffer.from(`"id":${id}}`)];
          const reply = waitForFrame(socket, `subscribe reply ${id}`, (f) =>
            idFields.some((field) => f.includes(field)),
          );
          socket.send(JSON.stringify({ op: 'subscribe', id, topics: [topic] }));
          const frame = (await reply).toString('utf8');
          if (!frame.includes('"success":true')) throw new Error(`subscribe refused: ${frame}`);
        },
        close: () => socket.close(),
      };
    },
  };
}

let publishErrors = 0;
function reportPublishError(message: string): void {
  // The first few say what is wrong; the rest would only flood the terminal.
  if (++publishErrors <= 5) console.error(`publish failed: ${message}`);
}

function createApiKey(cli: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const out = execFileSync(
    process.execPath,
    [cli, 'apikey', 'create', '--name', 'bench', '--scopes', 'publish', '--json'],
    { env, cwd, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const line = out.trim().split('\n').pop() ?? '';
  const key = (JSON.parse(line) as { key?: unknown }).key;
  if (typeof key !== 'string') throw new Error(`apikey create printed no key: ${out}`);
  return key;
}

/** POSTs events to /api/v1/publish over a few keep-alive connections. */
function httpPublisher(base: string, apiKey: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const url = new URL('/api/v1/publish', base);
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  return {
    publish: (topic: string, body: string) => {
      const payload = `{"topic":${JSON.stringify(topic)},"event":{"type":"bench",${body.slice(1)}}`;
      const req = request(url, { method: 'POST', agent, headers }, (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () =>
            reportPublishError(`HTTP ${res.statusCode ?? '?'}: ${text.slice(0, 300)}`),
          );
        } else res.resume();
      });
      req.on('error', (err) => reportPublishError(err.message));
      req.end(payload);
    },
    close: () => agent.destroy(),
  };
}

/** Creates a database for this run on the given server; `drop` removes it. */
function createScratchDatabase(adminUrl: string): { url: string; drop(): void } {
  const name = `switchboard_bench_${process.pid}_${Date.now()}`;
  const psql = (sql: string) =>
    execFileSync('psql', [adminUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], {
      stdio: 'pipe',
      timeout: 30_000,
    });
  psql(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop() {
      try {
        psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch (err) {
        console.error(`could not drop database ${name}:`, err instanceof Error ? err.message : err);
      }
    },
  };
}

/** A file in `dir` for a process's output, the directory made if need be; none without a dir. */
function outputFile(dir: string | undefined, name: string): string | undefined {
  if (dir === undefined) return undefined;
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
