// Test helpers for tests that run real processes: free ports, bounded waits, the built CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach } from 'vitest';
import { makeTempDir, testLogger } from './services.js';

/** The `switchboard` entry point; it runs the compiled server in server/dist. */
export const cliPath = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const builtCli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Why process tests cannot run, or undefined when server/dist is built. */
export function cliSkipReason(): string | undefined {
  return existsSync(builtCli)
    ? undefined
    : 'needs the built server: run `npm run build` in the repository root';
}

/**
 * For a describe block whose tests are consecutive stages of one scenario: once a stage fails,
 * the later ones are skipped instead of failing in ways that only mislead.
 */
export function skipAfterFailure(): void {
  let failed = false;
  beforeEach((context) => {
    if (failed) context.skip('an earlier stage failed');
    context.onTestFailed(() => {
      failed = true;
    });
  });
}

/** A TCP port that was free a moment ago (the kernel picks it for a listener on port 0). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Polls `probe` until it returns something other than undefined, or throws once `timeoutMs` has
 * passed, naming what it waited for and the last answer or error seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves like `promise`, or rejects once `ms` have passed, naming `what`. */
export async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

/** One HTTP request with its own deadline; network errors reject. */
export async function request(
  url: string,
  init: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? null : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
  });
  const body = await response.text();
  return { status: response.status, body, json: <T>() => JSON.parse(body) as T };
}

/** Resolves with the answer once `url` answers with `status`, within `timeoutMs`. */
export function waitForStatus(
  url: string,
  status: number,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<HttpAnswer> {
  return waitFor(
    `${url} to answer ${status}`,
    async () => {
      const answer = await request(url, { timeoutMs: 3000 });
      return answer.status === status ? answer : undefined;
    },
    options,
  );
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  readonly exited: Promise<Exit>;
  /** Resolves with the exit, or rejects after `timeoutMs` (the process is left running). */
  waitForExit(timeoutMs: number): Promise<Exit>;
  /** SIGKILLs the process if it is still running and waits for it; safe to call twice. */
  kill(): Promise<void>;
}

/** Tracks a spawned process: its combined output and its exit. */
export function track(child: ChildProcess): RunningProcess {
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // Spawning itself failed (no such binary): there will be no 'exit'.
    child.once('error', (err) => {
      output += `${err.message}\n`;
      resolve({ code: child.exitCode, signal: child.signalCode });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    waitForExit(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`pid ${child.pid} still running after ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Starts `switchboard <args>` from the built CLI. The environment holds only what the test gives
 * (plus PATH and HOME), so a developer's DATABASE_URL or .env cannot leak in; run it from a temp
 * `cwd` for the same reason. GRPC_PORT defaults to 0 (a free port) so that servers started side
 * by side never contend for the fixed default; a test may set it.
 */
export function spawnCli(
  args: readonly string[],
  options: { env: Record<string, string>; cwd: string },
): RunningProcess {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? options.cwd,
      TZ: 'UTC',
      GRPC_PORT: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}

/** A data directory of its own for CLI commands, and what runs on it. */
export interface CliSandbox {
  /** The working directory; `DATA_DIR` is `data/` inside it. */
  readonly dir: string;
  readonly env: Readonly<Record<string, string> & { DATA_DIR: string }>;
  /** Runs one command to its end (90 s at most). */
  run(args: readonly string[]): Promise<{ code: number | null; output: string }>;
  /** Starts a command that keeps running (`serve`); cleanup kills it. */
  start(args: readonly string[], env?: Record<string, string>): RunningProcess;
  /** Kills whatever still runs and removes the directory. */
  cleanup(): Promise<void>;
}

export function cliSandbox(prefix: string): CliSandbox {
  const dir = makeTempDir(prefix);
  const env = { DATA_DIR: join(dir.path, 'data'), LOG_LEVEL: 'warn' };
  const running: RunningProcess[] = [];
  const start = (args: readonly string[], extra: Record<string, string> = {}) => {
    const child = spawnCli(args, { cwd: dir.path, env: { ...env, ...extra } });
    running.push(child);
    return child;
  };
  return {
    dir: dir.path,
    env,
    start,
    async run(args) {
      const child = start(args);
      const exit = await child.waitForExit(90_000);
      return { code: exit.code, output: child.output() };
    },
    async cleanup() {
      await Promise.all(running.map((p) => p.kill()));
      dir.remove();
    },
  };
}

/** uid and gid of a local system user (e.g. `postgres`, which PostgreSQL tools must run as). */
export function systemUser(name: string): { uid: number; gid: number } {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name);
  const uid = Number(entry?.[2]);
  const gid = Number(entry?.[3]);
  if (!entry || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`no system user ${name}`);
  }
  return { uid, gid };
}

/**
 * Runs clean-up steps newest first, each even when an earlier one failed (logging the failure),
 * so a broken test still stops its processes and removes its files.
 */
export async function runCleanups(cleanups: Array<() => unknown>): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (err) {
      testLogger.warn({ err }, 'cleanup failed');
    }
  }
}
