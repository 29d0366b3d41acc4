// A real cluster for end-to-end tests: a private redis-server on a free port (never the shared one),
// several `switchboard serve` processes on one database and that Redis, and HS256 tokens for them.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { realPostgresUrl, skipReason } from '../../server/src/test-support/services.js';
import {
  cliSkipReason,
  freePort,
  spawnCli,
  track,
  waitFor,
  waitForStatus,
  type RunningProcess,
} from '../../server/src/test-support/processes.js';

export const redisServerPath = '/usr/bin/redis-server';

/**
 * Why end-to-end tests with real processes cannot run here (no real PostgreSQL, no redis-server
 * binary, no built CLI), or undefined.
 */
export function clusterSkipReason(): string | undefined {
  return !realPostgresUrl ? skipReason('PostgreSQL') : (redisServerSkipReason() ?? cliSkipReason());
}

/** Why a private Redis cannot be started here, or undefined. */
export function redisServerSkipReason(): string | undefined {
  return existsSync(redisServerPath)
    ? undefined
    : `needs ${redisServerPath} to start a private Redis (apt-get install redis-server)`;
}

/** Answers once a Redis at `port` replies to PING, rejecting on any other outcome. */
function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy(new Error('no reply to PING')));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) {
        socket.destroy();
        if (reply.startsWith('+PONG')) resolve(true);
        else reject(new Error(`PING answered ${reply.trim()}`));
      }
    });
    socket.on('error', reject);
  });
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** The running redis-server. */
  process(): RunningProcess;
  /** SIGKILLs it (acknowledged writes survive: the append-only file is fsynced on every write). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers PING. */
  start(): Promise<void>;
}

/**
 * Starts a private redis-server on a free port with its data in `dir`. History must outlive a
 * restart for resume to work across one, so it runs with `appendfsync always`, as a production
 * Redis holding resume history should.
 */
export async function startPrivateRedis(dir: string): Promise<PrivateRedis> {
  const port = await freePort();
  let running: RunningProcess | undefined;
  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    process() {
      if (!running) throw new Error('redis-server is not started');
      return running;
    },
    async kill() {
      await running?.kill();
    },
    async start() {
      const child = spawn(
        redisServerPath,
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--daemonize',
          'no',
          '--loglevel',
          'warning',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const started = track(child);
      running = started;
      await waitFor(
        `the private redis-server on port ${port} to answer PING`,
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`redis-server exited: ${started.output()}`);
          }
          return (await pingRedis(port)) ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
    },
  };
  await redis.start();
  return redis;
}

export interface ClusterNodeOptions {
  index: number;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  jwtSecret: string;
  workDir: string;
  env?: Record<string, string>;
}

export interface ClusterNode {
  readonly index: number;
  readonly name: string;
  readonly url: string;
  readonly wsUrl: string;
  readonly process: RunningProcess;
}

/** Spawns `switchboard serve` for one node and waits until /readyz answers 200. */
export async function startNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const name = `node-${options.index + 1}`;
  const url = `http://127.0.0.1:${options.port}`;
  const running = spawnCli(['serve'], {
    cwd: options.workDir,
    env: {
      HOST: '127.0.0.1',
      PORT: String(options.port),
      INSTANCE_ID: name,
      LOG_LEVEL: 'warn',
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      JWT_SECRET: options.jwtSecret,
      DATA_DIR: join(options.workDir, name),
      ...options.env,
    },
  });
  try {
    await waitFor(
      `${name} to become ready`,
      async () => {
        const exit = running.child.exitCode ?? running.child.signalCode;
        if (exit !== null) throw new Error(`${name} exited (${exit}): ${running.output()}`);
        return (await waitForStatus(`${url}/readyz`, 200, { timeoutMs: 500 })) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
  } catch (err) {
    await running.kill();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${running.output()}`);
  }
  return {
    index: options.index,
    name,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    process: running,
  };
}

/** Mints HS256 access tokens the nodes accept (they share `secret` as JWT_SECRET). */
export function tokenMinter(secret: string) {
  const key = new TextEncoder().encode(secret);
  return (userId: string, claims: Record<string, unknown> = {}): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);
}
