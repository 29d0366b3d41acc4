// Processes under measurement: spawning pinned to a core, CPU time and RSS read from /proc, and
// bounded waits for a server to come up.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux build we target). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface Pinned {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly name: string;
  /** Everything the process wrote, for error reports (bounded). */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `command` pinned to `cpu` with `taskset`; fails fast if it exits during start-up. */
export function spawnPinned(
  name: string,
  cpu: number,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
  /** Also append the process's stdout and stderr to this file. */
  outputFile?: string,
): Pinned {
  // exec keeps the pid the server's own, so /proc/<pid> reads the server and not a wrapper.
  const child = spawn('taskset', ['-c', String(cpu), command, ...args], {
    env,
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (outputFile !== undefined) {
    const file = createWriteStream(outputFile, { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
  }
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid,
    name,
    output: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** User plus system CPU seconds the process has used so far (all its threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds of every process whose command name is `comm` (e.g. `postgres`: the postmaster,
 * every backend and the background writers), by pid. Processes that vanish while being read are
 * left out.
 */
export function cpuSecondsByCommand(comm: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pidsOf(comm)) {
    try {
      out.set(pid, cpuSeconds(pid));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/** Pids of the processes whose command name is `comm`. */
function pidsOf(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return pids;
}

/**
 * Pins every process named `comm` to `cpus` (a `taskset` list such as `0`), threads included;
 * what they fork later (a postmaster's new backends) inherits it. Returns the undo, which gives
 * every process of that name, old or new, the CPU list the first one had.
 */
export function pinCommand(comm: string, cpus: string): () => void {
  const pids = pidsOf(comm);
  if (pids.length === 0) throw new Error(`no ${comm} process to pin to CPUs ${cpus}`);
  const current = execFileSync('taskset', ['-c', '-p', String(pids[0])], { encoding: 'utf8' });
  const before = /:\s*(\S+)\s*$/.exec(current)?.[1];
  if (!before) throw new Error(`cannot read the CPU list of ${comm} from: ${current}`);
  const pinAll = (list: string): number => {
    let pinned = 0;
    for (const pid of pidsOf(comm)) {
      try {
        execFileSync('taskset', ['-a', '-c', '-p', list, String(pid)], { stdio: 'pipe' });
        pinned++;
      } catch {
        // Gone since the listing, or not ours to pin (checked below).
      }
    }
    return pinned;
  };
  if (pinAll(cpus) === 0) {
    throw new Error(
      `could not pin any ${comm} process to CPUs ${cpus}: run as root or as the processes' owner`,
    );
  }
  return () => void pinAll(before);
}

/**
 * Seconds the process's main thread (its event loop) spent runnable but waiting for a CPU, from
 * /proc/<pid>/schedstat. On a machine shared with other work this is what inflates latency while
 * CPU percentages stay low; on a quiet machine it stays near zero.
 */
export function runQueueWaitSeconds(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
  return Number(fields[1]) / 1e9;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit(): { soft: number; hard: number } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  const value = (v: string | undefined) =>
    v === undefined || v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v);
  return { soft: value(match?.[1]), hard: value(match?.[2]) };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on the port; throws after `timeoutMs`. */
export async function waitForPort(
  process: Pinned,
  port: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) {
      throw new Error(`${process.name} exited during start-up:\n${process.output()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await delay(100);
  }
  throw new Error(
    `${process.name} did not listen on ${port} within ${timeoutMs} ms:\n${process.output()}`,
  );
}

/** Polls an HTTP URL until it answers 200; throws after `timeoutMs`. */
export async function waitForHttp(process: Pinned, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) {
      throw new Error(`${process.name} exited during start-up:\n${process.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await delay(200);
  }
  throw new Error(`${process.name} not ready at ${url} (${last}):\n${process.output()}`);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
