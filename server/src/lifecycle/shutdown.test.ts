// Graceful shutdown: the Shutdown steps and signal handling, and the built `switchboard serve` in
// embedded mode exiting cleanly on SIGTERM and refusing a data directory another process holds.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, Readiness } from '../http/index.js';
import { createLogger } from '../observability/index.js';
import {
  runCleanups,
  cliSkipReason,
  freePort,
  request,
  skipAfterFailure,
  spawnCli,
  track,
  waitFor,
  waitForStatus,
  within,
  type RunningProcess,
} from '../test-support/processes.js';
import { makeTempDir, testLogger } from '../test-support/services.js';
import { Shutdown } from './shutdown.js';

/** A logger whose JSON lines the test can read back. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', instanceId: 'test', destination }), lines };
}

describe('Shutdown', () => {
  it('runs every step once, in the order added, however often it is asked to', async () => {
    const { logger, lines } = capturingLogger();
    const ran: string[] = [];
    const shutdown = new Shutdown({ logger, timeoutMs: 1000, exit: () => {} });
    shutdown.add('first', () => {
      ran.push('first');
    });
    shutdown.add('second', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      ran.push('second');
    });
    shutdown.add('third', () => {
      ran.push('third');
    });

    expect(shutdown.started).toBe(false);
    const first = shutdown.run('SIGTERM');
    const second = shutdown.run('again');
    expect(shutdown.started).toBe(true);
    expect(second).toBe(first);
    await first;
    await shutdown.run('once more');

    expect(ran).toEqual(['first', 'second', 'third']);
    expect(lines.filter((l) => l.msg === 'shutting down')).toEqual([
      expect.objectContaining({ reason: 'SIGTERM' }),
    ]);
    expect(lines.at(-1)?.msg).toBe('shutdown complete');
  });

  it('keeps going after a step that throws or rejects', async () => {
    const { logger, lines } = capturingLogger();
    const ran: string[] = [];
    const shutdown = new Shutdown({ logger, timeoutMs: 1000, exit: () => {} });
    shutdown.add('throws', () => {
      throw new Error('sync failure');
    });
    shutdown.add('rejects', () => Promise.reject(new Error('async failure')));
    shutdown.add('last', () => {
      ran.push('last');
    });

    await expect(shutdown.run('test')).resolves.toBeUndefined();

    expect(ran).toEqual(['last']);
    const failures = lines.filter((l) => l.msg === 'shutdown step failed; continuing');
    expect(failures.map((l) => l.step)).toEqual(['throws', 'rejects']);
    expect(lines.at(-1)?.msg).toBe('shutdown complete');
  });
});

describe('draining HTTP', () => {
  it('lets a request in flight on a keep-alive connection finish, then closes promptly', async () => {
    const readiness = new Readiness();
    const app = createHttpApp({
      logger: testLogger,
      readiness,
      bodyLimit: 1024,
      trustProxy: false,
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    app.get('/slow', async () => {
      entered();
      await gate;
      return { done: true };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    // The same steps, in the same order, as the server's own shutdown.
    const shutdown = new Shutdown({ logger: testLogger, timeoutMs: 30_000, exit: () => {} });
    shutdown.add('stop readiness', () => readiness.startDraining());
    shutdown.add('close http', () => app.close());
    try {
      // fetch keeps connections alive: one idle at close time, one busy.
      expect((await request(`${base}/health`)).status).toBe(200);
      const slow = fetch(`${base}/slow`, { signal: AbortSignal.timeout(20_000) });
      await inHandler;
      const drained = shutdown.run('test');
      await waitFor('the server to stop listening', () =>
        Promise.resolve(app.server.listening ? undefined : true),
      );
      release();
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('connection')).toBe('close');
      expect(await answer.json()).toEqual({ done: true });
      // Not after the 72 s keep-alive timeout of the connection, now idle.
      await within('shutdown after the last answer', 5000, drained);
    } finally {
      release();
      app.server.closeAllConnections();
      await app.close();
    }
  });
});

// Signals are sent to a child process (tsx runs the TypeScript source), never to the test worker.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const shutdownSource = fileURLToPath(new URL('./shutdown.ts', import.meta.url));
const signalScript = `
const { Shutdown } = await import(${JSON.stringify(shutdownSource)});
const say = (line) => process.stdout.write(JSON.stringify(line) + '\\n');
const log = (level) => (fields, msg) =>
  say(typeof fields === 'string' ? { level, msg: fields } : { level, msg, ...fields, err: undefined });
const logger = { info: log('info'), debug: () => {}, warn: log('warn'), error: log('error') };
const shutdown = new Shutdown({
  logger,
  timeoutMs: Number(process.env.TIMEOUT_MS),
  exit: (code) => { say({ exit: code }); process.exit(code); },
});
shutdown.add('quick', () => say({ step: 'quick' }));
shutdown.add('slow', () => new Promise((resolve) => {
  say({ step: 'slow' });
  if (process.env.HANG !== '1') resolve();
}));
shutdown.installSignalHandlers();
setInterval(() => {}, 60_000);
say({ ready: true });
`;

function startSignalChild(env: { TIMEOUT_MS: string; HANG?: string }): RunningProcess {
  return track(
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', signalScript], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

const outputHas = (child: RunningProcess, text: string) =>
  waitFor(`child output to contain ${text}`, () =>
    Promise.resolve(child.output().includes(text) ? true : undefined),
  );

describe('Shutdown signal handling (child process)', () => {
  const children: RunningProcess[] = [];
  afterAll(() => Promise.all(children.map((c) => c.kill())));

  it('drains on the first SIGTERM and exits 0', async () => {
    const child = startSignalChild({ TIMEOUT_MS: '20000' });
    children.push(child);
    await outputHas(child, '"ready":true');
    child.child.kill('SIGTERM');
    const exit = await child.waitForExit(15_000);
    expect(exit, child.output()).toEqual({ code: 0, signal: null });
    const order = child
      .output()
      .split('\n')
      .filter((l) => /"step"|shutdown complete|"exit"/.test(l));
    expect(order).toEqual([
      expect.stringContaining('"step":"quick"'),
      expect.stringContaining('"step":"slow"'),
      expect.stringContaining('shutdown complete'),
      expect.stringContaining('"exit":0'),
    ]);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('exits at once with %s on a second signal while draining', async (signal, code) => {
    const child = startSignalChild({ TIMEOUT_MS: '20000', HANG: '1' });
    children.push(child);
    await outputHas(child, '"ready":true');
    child.child.kill(signal);
    await outputHas(child, '"step":"slow"');
    const sent = performance.now();
    child.child.kill(signal);
    const exit = await child.waitForExit(10_000);
    expect(exit, child.output()).toEqual({ code, signal: null });
    expect(child.output()).toContain(`"exit":${code}`);
    expect(child.output()).toContain('second signal: exiting now');
    expect(child.output()).not.toContain('shutdown complete');
    // Far sooner than the 20 s drain deadline.
    expect(performance.now() - sent).toBeLessThan(5000);
  });

  it('exits 1 when the steps outlast the deadline', async () => {
    const child = startSignalChild({ TIMEOUT_MS: '300', HANG: '1' });
    children.push(child);
    await outputHas(child, '"ready":true');
    child.child.kill('SIGTERM');
    const exit = await child.waitForExit(10_000);
    expect(exit, child.output()).toEqual({ code: 1, signal: null });
    expect(child.output()).toContain('shutdown did not finish in time; exiting anyway');
  });
});

const cliSkip = cliSkipReason();

describe.skipIf(cliSkip)(
  `switchboard serve, embedded mode${cliSkip ? ` (skipped: ${cliSkip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    let dataDir: string;
    let cwd: string;
    let first: RunningProcess;
    let firstUrl: string;

    skipAfterFailure();

    const embeddedEnv = (port: number, instance: string) => ({
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      INSTANCE_ID: instance,
    });

    beforeAll(async () => {
      const dir = makeTempDir('sb-shutdown-');
      cleanups.push(() => dir.remove());
      cwd = dir.path;
      dataDir = join(dir.path, 'data');
      const port = await freePort();
      firstUrl = `http://127.0.0.1:${port}`;
      first = spawnCli(['serve'], { cwd, env: embeddedEnv(port, 'first') });
      cleanups.push(() => first.kill());
    });

    afterAll(async () => {
      await runCleanups(cleanups);
    });

    it('starts on the embedded defaults and answers /health', async () => {
      // First start creates the PGlite cluster: seconds on a small machine.
      await waitForStatus(`${firstUrl}/health`, 200, { timeoutMs: 90_000 }).catch((err: Error) => {
        throw new Error(`${err.message}\n${first.output()}`, { cause: err });
      });
      expect(existsSync(join(dataDir, 'switchboard.lock'))).toBe(true);
    }, 100_000);

    it('refuses to start a second instance on the same DATA_DIR, naming the lock', async () => {
      const second = spawnCli(['serve'], {
        cwd,
        env: embeddedEnv(await freePort(), 'second'),
      });
      cleanups.push(() => second.kill());
      const exit = await second.waitForExit(30_000);
      expect(exit.code, second.output()).not.toBe(0);
      expect(exit.code, second.output()).not.toBeNull();
      expect(second.output()).toContain(
        `Data directory ${dataDir} is in use by another Switchboard process (pid ${first.child.pid})`,
      );
      // The first instance is unaffected.
      expect((await waitForStatus(`${firstUrl}/health`, 200, { timeoutMs: 5000 })).body).toBe('OK');
    }, 40_000);

    it('shuts down cleanly on a SIGTERM that arrives during start-up', async () => {
      const dir = makeTempDir('sb-early-signal-');
      cleanups.push(() => dir.remove());
      const early = spawnCli(['serve'], {
        cwd: dir.path,
        env: { ...embeddedEnv(await freePort(), 'early'), DATA_DIR: join(dir.path, 'data') },
      });
      cleanups.push(() => early.kill());
      // The store is opening (and holds the data-directory lock) but the server is not listening.
      await waitFor(
        'the data-directory lock',
        () => Promise.resolve(existsSync(join(dir.path, 'data', 'switchboard.lock')) || undefined),
        { timeoutMs: 30_000 },
      );
      early.child.kill('SIGTERM');
      const exit = await early.waitForExit(30_000);
      expect(exit, early.output()).toEqual({ code: 0, signal: null });
      expect(early.output()).toContain('shutdown complete');
      expect(existsSync(join(dir.path, 'data', 'switchboard.lock'))).toBe(false);
    }, 60_000);

    it('exits 0 on SIGTERM well within 30 s, logging shutdown complete and releasing the lock', async () => {
      const sent = performance.now();
      first.child.kill('SIGTERM');
      const exit = await first.waitForExit(30_000);
      expect(exit, first.output()).toEqual({ code: 0, signal: null });
      expect(performance.now() - sent).toBeLessThan(15_000);
      const messages = first
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg?: string }).msg);
      expect(messages).toContain('shutting down');
      expect(messages.at(-1)).toBe('shutdown complete');
      expect(existsSync(join(dataDir, 'switchboard.lock'))).toBe(false);
    }, 40_000);
  },
);
