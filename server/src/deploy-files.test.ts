// Keeps the deployment files true: the Dockerfile's CMD and HEALTHCHECK really start and probe the
// server, and compose.yaml and fly.toml agree with the Dockerfile and the configuration schema.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { configKeys, loadConfig, type ConfigKey } from './config/index.js';
import { makeTempDir } from './test-support/services.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const readRepoFile = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

const knownKeys = new Set<string>(Object.keys(configKeys));
const allKeys = Object.keys(configKeys) as ConfigKey[];
const generatedSecrets = allKeys.filter((k) => configKeys[k].secret === 'generated');
const secretKeys = allKeys.filter((k) => configKeys[k].secret !== undefined);

/** The value a key takes when nothing sets it. */
const defaultOf = (key: ConfigKey): unknown => configKeys[key].schema.safeParse(undefined).data;

/** A value every generated secret accepts (the longest minimum is 32 characters). */
const exampleSecret = 'example-secret-for-tests-0123456789abcdef';

// ---- Dockerfile ------------------------------------------------------------------------------

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly name: string | undefined;
  readonly base: string;
  readonly instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions: comments dropped, continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending: string | undefined;
  for (const raw of text.split('\n')) {
    const trimmed = raw.trim();
    // Comment lines vanish even inside a continuation, as in Docker itself.
    if (trimmed.startsWith('#')) continue;
    if (trimmed === '' && pending === undefined) continue;
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending === undefined ? part : `${pending} ${part}`;
    if (!continues) {
      logical.push(pending);
      pending = undefined;
    }
  }
  if (pending !== undefined) throw new Error('Dockerfile ends inside a line continuation');

  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`cannot parse FROM ${args}`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before the first FROM`);
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

const all = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const last = (stage: Stage, keyword: string) => all(stage, keyword).at(-1);

/** `ENV A=1 B=2` pairs (unquoted values, which is all this Dockerfile uses). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`ENV ${args}: expected KEY=value pairs`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** The shell command of `HEALTHCHECK [--option=value ...] CMD <command>`. */
function healthcheckCommand(stage: Stage): string {
  const args = last(stage, 'HEALTHCHECK');
  const match = args === undefined ? null : /^(?:--\S+\s+)*CMD\s+(.+)$/.exec(args);
  if (!match) throw new Error(`HEALTHCHECK must be "[options] CMD <command>"; got ${args}`);
  return match[1]!.trim();
}

/** `CMD [...]` in exec form. */
function execCommand(stage: Stage): string[] {
  const args = last(stage, 'CMD');
  if (args === undefined) throw new Error('no CMD');
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`CMD must be in exec form (a JSON array of strings); got ${args}`);
  }
  return parsed;
}

const dockerStages = parseDockerfile(readRepoFile('Dockerfile'));
const finalStage = dockerStages.at(-1)!;
const buildStage = dockerStages.find((s) => s.name === 'build');
const dockerCmd = execCommand(finalStage);
const dockerHealthcheck = healthcheckCommand(finalStage);
const dockerEnv = envOf(finalStage);

describe('Dockerfile', () => {
  it('builds in a separate stage on node:20-bookworm-slim and runs on the same base', () => {
    expect(dockerStages.length).toBeGreaterThanOrEqual(2);
    expect(buildStage, 'a stage named "build"').toBeDefined();
    for (const stage of dockerStages) expect(stage.base).toBe('node:20-bookworm-slim');
  });

  it('copies every workspace manifest before `npm ci`, so installs are cached and complete', () => {
    const rootManifest = JSON.parse(readRepoFile('package.json')) as { workspaces: string[] };
    const instructions = buildStage!.instructions;
    const ciAt = instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(ciAt, 'RUN npm ci in the build stage').toBeGreaterThan(0);
    const copiedFirst = instructions
      .slice(0, ciAt)
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const file of [
      'package.json',
      'package-lock.json',
      ...rootManifest.workspaces.map((w) => `${w}/package.json`),
    ]) {
      expect(copiedFirst, `COPY ${file} before npm ci`).toContain(file);
    }
    const build = instructions
      .slice(ciAt)
      .find((i) => i.keyword === 'RUN' && /npm run build/.test(i.args));
    expect(build?.args, 'build, then drop dev dependencies').toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root user in production mode, with DATA_DIR owned by that user', () => {
    const user = last(finalStage, 'USER');
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(last(finalStage, 'WORKDIR')).toBe('/app');
    expect(dockerEnv.NODE_ENV).toBe('production');
    expect(dockerEnv.DATA_DIR).toBe('/app/data');
    const chown = all(finalStage, 'RUN').find((r) => r.includes('chown'));
    expect(chown).toMatch(new RegExp(`chown ${user}(:${user})? ${dockerEnv.DATA_DIR}`));
    for (const key of Object.keys(dockerEnv)) expect(knownKeys, `ENV ${key}`).toContain(key);
  });

  it('exposes HTTP (the default PORT) and gRPC, stops with SIGTERM and starts `serve`', () => {
    const exposed = all(finalStage, 'EXPOSE').flatMap((a) =>
      a.split(/\s+/).map((p) => p.split('/')[0]),
    );
    expect(exposed).toContain(String(defaultOf('PORT')));
    expect(exposed).toContain('15091');
    expect(last(finalStage, 'STOPSIGNAL')).toBe('SIGTERM');
    expect(dockerCmd).toEqual(['node', 'server/bin/switchboard.js', 'serve']);
  });

  it('probes liveness with node itself (slim images have no curl), on ${PORT:-8080}', () => {
    expect(dockerHealthcheck).toMatch(/^node /);
    expect(dockerHealthcheck).toContain(
      `http://127.0.0.1:\${PORT:-${String(defaultOf('PORT'))}}/health`,
    );
  });

  it('ships the packages the server depends on at run time', () => {
    const copied = all(finalStage, 'COPY')
      .filter((a) => a.startsWith('--from=build '))
      .map((a) => a.split(/\s+/)[1]!.replace(/^\/app\//, ''));
    const serverManifest = JSON.parse(readRepoFile('server/package.json')) as {
      dependencies: Record<string, string>;
    };
    const needed = ['package.json', 'node_modules', 'config'].concat(
      ['package.json', 'bin', 'dist', 'migrations', 'static'].map((p) => `server/${p}`),
    );
    for (const dependency of Object.keys(serverManifest.dependencies)) {
      if (!dependency.startsWith('@switchboard/')) continue;
      const dir = `packages/${dependency.slice('@switchboard/'.length)}`;
      expect(existsSync(join(repoRoot, dir)), `${dependency} lives in ${dir}`).toBe(true);
      needed.push(`${dir}/package.json`, `${dir}/dist`);
    }
    for (const path of needed) expect(copied, `runtime stage copies ${path}`).toContain(path);
  });
});

// ---- Running the image's CMD and HEALTHCHECK -------------------------------------------------

const built =
  existsSync(join(repoRoot, 'server/dist/cli.js')) &&
  existsSync(join(repoRoot, 'packages/protocol/dist/index.js'));
const notBuilt = 'server/dist is missing: run `npm run build` in the repository root first';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const exited = (child: ChildProcess) =>
  new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

/** Runs a HEALTHCHECK shell command the way Docker does (`/bin/sh -c`). */
async function runShell(
  command: string,
  env: NodeJS.ProcessEnv,
): Promise<Exit & { output: string }> {
  const child = spawn('/bin/sh', ['-c', command], { cwd: repoRoot, env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { ...(await exited(child)), output };
}

/** A minimal environment, so no config key or NODE_ENV from this machine leaks into a run. */
const baseEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  TZ: 'UTC',
});

describe('the image command, run from the repository root', () => {
  const dataDir = makeTempDir('sb-deploy-');
  let server: ChildProcess | undefined;
  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const gone = exited(server);
      server.kill('SIGKILL');
      await gone;
    }
    dataDir.remove();
  });

  it('serves in embedded mode, passes the HEALTHCHECK, and exits 0 on SIGTERM', async (ctx) => {
    ctx.skip(!built, notBuilt);
    const port = await freePort();
    const [command, ...args] = dockerCmd;
    // NODE_ENV unset: embedded mode generates its secrets in DATA_DIR. Empty URLs override any
    // developer .env so the run stays embedded (PGlite + in-memory broker).
    const child = spawn(command!, args, {
      cwd: repoRoot,
      env: {
        ...baseEnv(),
        DATA_DIR: dataDir.path,
        PORT: String(port),
        GRPC_PORT: '0',
        DATABASE_URL: '',
        REDIS_URL: '',
        LOG_LEVEL: 'info',
        INSTANCE_ID: 'deploy-files-test',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    const exit = exited(child);
    const lines: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const events = createInterface({ input: child.stdout });
    const logged = (message: string) =>
      new Promise<void>((resolve, reject) => {
        events.on('line', (line) => {
          lines.push(line);
          try {
            if ((JSON.parse(line) as { msg?: string }).msg === message) resolve();
          } catch {
            // Not a log line; kept for the failure message.
          }
        });
        void exit.then(({ code, signal }) =>
          reject(
            new Error(
              `server exited (code ${code}, signal ${signal}) before logging "${message}":\n${lines.join('\n')}`,
            ),
          ),
        );
      });

    await logged('switchboard started');

    const stored = JSON.parse(readFileSync(join(dataDir.path, 'secrets.json'), 'utf8')) as object;
    expect(Object.keys(stored).sort()).toEqual([...generatedSecrets].sort());

    const healthy = await runShell(dockerHealthcheck, { ...baseEnv(), PORT: String(port) });
    expect(healthy, healthy.output).toMatchObject({ code: 0 });

    // The probe must really look: nothing listens on another free port, so it fails there.
    const elsewhere = await runShell(dockerHealthcheck, {
      ...baseEnv(),
      PORT: String(await freePort()),
    });
    expect(elsewhere.code).not.toBe(0);

    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readyz.status).toBe(200);

    const stopping = Date.now();
    child.kill('SIGTERM');
    expect(await exit, lines.join('\n')).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopping).toBeLessThan(30_000);
  }, 120_000);
});

// ---- compose.yaml ----------------------------------------------------------------------------

/**
 * Compose's interpolation for the forms compose.yaml uses: `$$`, `${VAR}`, `${VAR:-default}` and
 * `${VAR:?error}` (which must be given in `vars`).
 */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}/g,
    (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (match === '$$') return '$';
      const given = vars[name!];
      if (given) return given;
      if (op === '-') return arg ?? '';
      if (op === '?') throw new Error(`compose would refuse to start: ${name} unset (${arg})`);
      return '';
    },
  );
}

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parseYaml(readRepoFile('compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const composeServices = Object.entries(compose.services);
const switchboards = composeServices.filter(([, s]) => s.build !== undefined);

/** Example values for every `${VAR:?...}` a service needs from the operator. */
function exampleVars(environment: Record<string, unknown>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const value of Object.values(environment)) {
    for (const m of String(value).matchAll(/\$\{(\w+):\?/g)) vars[m[1]!] = exampleSecret;
  }
  return vars;
}

describe('compose.yaml', () => {
  it('runs two Switchboard instances built from the Dockerfile on host ports 8081 and 8082', () => {
    expect(switchboards.map(([name]) => name)).toEqual(['switchboard-1', 'switchboard-2']);
    expect(switchboards.map(([, s]) => s.ports)).toEqual([['8081:8080'], ['8082:8080']]);
    for (const [, service] of switchboards) {
      const port = service.environment?.PORT ?? defaultOf('PORT');
      expect(service.ports?.[0]?.split(':')[1]).toBe(String(port));
    }
  });

  it('runs PostgreSQL 16 and Redis 7 with healthchecks the instances wait for', () => {
    expect(compose.services.postgres?.image).toMatch(/^postgres:16\b/);
    expect(compose.services.redis?.image).toMatch(/^redis:7\b/);
    for (const [name, service] of switchboards) {
      const dependencies = Object.entries(service.depends_on ?? {});
      expect(dependencies.map(([d]) => d).sort(), name).toEqual(['postgres', 'redis']);
      for (const [dependency, { condition }] of dependencies) {
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
        expect(compose.services[dependency]?.healthcheck, dependency).toBeDefined();
      }
    }
  });

  it.each(switchboards)('%s uses the Dockerfile command and healthcheck', (_name, service) => {
    expect(service.command).toEqual(dockerCmd);
    const [kind, command] = service.healthcheck?.test ?? [];
    expect(kind).toBe('CMD-SHELL');
    expect(interpolate(command ?? '', {})).toBe(dockerHealthcheck);
  });

  it.each(switchboards)(
    '%s sets only known config keys, secrets from the operator',
    (_name, service) => {
      const environment = service.environment ?? {};
      for (const key of Object.keys(environment)) expect(knownKeys, key).toContain(key);
      for (const key of generatedSecrets) {
        // Required from whoever runs compose, never a value committed here.
        expect(String(environment[key]), key).toMatch(new RegExp(`^\\$\\{${key}:\\?`));
      }
      const host = (key: string) => new URL(interpolate(String(environment[key]), {})).hostname;
      expect(
        compose.services[host('DATABASE_URL')],
        'DATABASE_URL points at a service',
      ).toBeDefined();
      expect(compose.services[host('REDIS_URL')], 'REDIS_URL points at a service').toBeDefined();
    },
  );

  it.each(switchboards)('%s validates in production mode', (_name, service) => {
    const environment = service.environment ?? {};
    const vars = exampleVars(environment);
    const env: NodeJS.ProcessEnv = { ...dockerEnv };
    for (const [key, value] of Object.entries(environment)) {
      if (value !== null) env[key] = interpolate(String(value), vars);
    }
    const cwd = makeTempDir('sb-compose-');
    try {
      const { config } = loadConfig({ env, cwd: cwd.path, secrets: 'readOnly' });
      expect(config.NODE_ENV).toBe('production');
      expect(config.DATABASE_URL).toMatch(/^postgres:\/\//);
      expect(config.REDIS_URL).toMatch(/^redis:\/\//);
      expect(readdirSync(cwd.path)).toEqual([]);
    } finally {
      cwd.remove();
    }
  });
});

// ---- fly.toml --------------------------------------------------------------------------------

type TomlValue = string | number | boolean;
type TomlTable = Record<string, TomlValue>;

/**
 * The TOML subset fly.toml uses: `[table]`, `[[array.of.tables]]`, `key = "string" | number |
 * boolean`, comments. Anything else throws, so the file cannot drift beyond what is checked.
 */
function parseFlyToml(text: string): Map<string, TomlTable[]> {
  const tables = new Map<string, TomlTable[]>([['', [{}]]]);
  let current = tables.get('')![0]!;
  text.split('\n').forEach((raw, index) => {
    const line = stripComment(raw).trim();
    if (line === '') return;
    const where = `fly.toml:${index + 1}`;
    const header = /^(\[\[?)\s*([\w.-]+)\s*(\]\]?)$/.exec(line);
    if (header) {
      const [, open, name, close] = header;
      const isArray = open === '[[';
      if (isArray !== (close === ']]')) throw new Error(`${where}: unbalanced header ${line}`);
      const list = tables.get(name!) ?? [];
      if (!isArray && list.length > 0) throw new Error(`${where}: [${name}] defined twice`);
      current = {};
      list.push(current);
      tables.set(name!, list);
      return;
    }
    const pair = /^([\w-]+)\s*=\s*(.+)$/.exec(line);
    if (!pair) throw new Error(`${where}: cannot parse ${line}`);
    const [, key, rawValue] = pair;
    if (key! in current) throw new Error(`${where}: ${key} set twice`);
    current[key!] = parseTomlValue(rawValue!, where);
  });
  return tables;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function parseTomlValue(raw: string, where: string): TomlValue {
  if (/^"[^"\\]*"$/.test(raw) || /^'[^']*'$/.test(raw)) return raw.slice(1, -1);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^[+-]?\d[\d_]*$/.test(raw)) return Number(raw.replaceAll('_', ''));
  throw new Error(`${where}: unsupported value ${raw}`);
}

const fly = parseFlyToml(readRepoFile('fly.toml'));
const flyTable = (name: string) => fly.get(name)?.[0] ?? {};

/** Fly durations such as "30s" or "1m", in seconds. */
function seconds(value: TomlValue | undefined): number {
  const match = /^(\d+)(s|m)$/.exec(String(value));
  if (!match) throw new Error(`expected a duration like "30s"; got ${String(value)}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

describe('fly.toml', () => {
  const env = flyTable('env');
  const service = flyTable('http_service');

  it('routes to the PORT the server listens on and checks readiness on /readyz', () => {
    expect(env.NODE_ENV).toBe('production');
    expect(service.internal_port).toBe(Number(env.PORT ?? defaultOf('PORT')));
    expect(service.force_https).toBe(true);
    expect(service.auto_stop_machines).toBe('off');
    const checks = fly.get('http_service.checks') ?? [];
    expect(checks.map((c) => c.path)).toContain('/readyz');
    expect(fly.get('vm')?.length).toBeGreaterThan(0);
  });

  it('builds the Dockerfile and stops machines the way the server drains', () => {
    const root = flyTable('');
    expect(root.app).toBeTypeOf('string');
    expect(root.primary_region).toBeTypeOf('string');
    expect(flyTable('build').dockerfile).toBe('Dockerfile');
    expect(root.kill_signal).toBe(last(finalStage, 'STOPSIGNAL'));
    const drain = Number(env.SHUTDOWN_TIMEOUT_SECONDS ?? defaultOf('SHUTDOWN_TIMEOUT_SECONDS'));
    expect(seconds(root.kill_timeout)).toBeGreaterThan(drain);
  });

  it('sets only known, non-secret config keys (secrets come from `fly secrets set`)', () => {
    for (const key of Object.keys(env)) {
      expect(knownKeys, key).toContain(key);
      expect(secretKeys, `${key} belongs in fly secrets`).not.toContain(key);
    }
    const cwd = makeTempDir('sb-fly-');
    try {
      const secrets = Object.fromEntries(generatedSecrets.map((k) => [k, exampleSecret]));
      const merged = { ...dockerEnv, ...secrets };
      for (const [key, value] of Object.entries(env)) merged[key] = String(value);
      const { config } = loadConfig({ env: merged, cwd: cwd.path, secrets: 'readOnly' });
      expect(config.NODE_ENV).toBe('production');
      expect(config.PORT).toBe(service.internal_port);
    } finally {
      cwd.remove();
    }
  });
});
