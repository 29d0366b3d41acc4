// A private PgBouncer in transaction pooling mode in front of one real PostgreSQL database, for
// tests that must prove code works when consecutive transactions land on different server
// connections.
import { spawn } from 'node:child_process';
import { chownSync, existsSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort, systemUser, track, waitFor, type RunningProcess } from './processes.js';
import { makeTempDir } from './services.js';

function findPgbouncer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs
    .filter(Boolean)
    .map((dir) => join(dir, 'pgbouncer'))
    .find((path) => existsSync(path));
}

const pgbouncerBinary = findPgbouncer();

/** Why a PgBouncer cannot be started here, or undefined. */
export function pgbouncerSkipReason(): string | undefined {
  return pgbouncerBinary ? undefined : 'needs pgbouncer binary (apt-get install pgbouncer)';
}

export interface PgbouncerOptions {
  /** The upstream database; PgBouncer serves it under the same name, user and password. */
  databaseUrl: string;
  /** Server connections PgBouncer opens to the database, at most (default 2). */
  poolSize?: number;
  /** Client connections PgBouncer accepts (default 200). */
  maxClientConnections?: number;
}

export interface RunningPgbouncer {
  /** `databaseUrl` with host and port replaced by PgBouncer's. */
  readonly url: string;
  /** PgBouncer's admin console (`SHOW CLIENTS`, ...; simple query protocol only). */
  readonly adminUrl: string;
  readonly process: RunningProcess;
  /** Kills PgBouncer and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts PgBouncer on a free port in transaction pooling mode and resolves once it has answered
 * a query through to the database.
 */
export async function startPgbouncer(options: PgbouncerOptions): Promise<RunningPgbouncer> {
  if (!pgbouncerBinary) throw new Error(pgbouncerSkipReason());
  const poolSize = options.poolSize ?? 2;
  const upstream = new URL(options.databaseUrl);
  const database = decodeURIComponent(upstream.pathname.slice(1));
  const user = decodeURIComponent(upstream.username || 'postgres');
  const password = decodeURIComponent(upstream.password);
  const dir = makeTempDir('sb-pgbouncer-');
  const config = join(dir.path, 'pgbouncer.ini');
  const userlist = join(dir.path, 'userlist.txt');
  const port = await freePort();
  writeFileSync(
    config,
    [
      '[databases]',
      `${database} = host=${upstream.hostname} port=${upstream.port || 5432} dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${userlist}`,
      `admin_users = ${user}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      `max_db_connections = ${poolSize}`,
      'reserve_pool_size = 0',
      `max_client_conn = ${options.maxClientConnections ?? 200}`,
      'ignore_startup_parameters = extra_float_digits',
      '',
    ].join('\n'),
  );
  // With trust, clients are not asked for a password; PgBouncer uses this one upstream.
  writeFileSync(userlist, `"${user}" "${password}"\n`);

  // PgBouncer refuses to run as root; as root, hand it the files and drop to postgres.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = systemUser('postgres');
    for (const path of [dir.path, config, userlist]) chownSync(path, uid, gid);
  }
  const bouncer = track(
    spawn(pgbouncerBinary, asRoot ? ['-u', 'postgres', config] : [config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const stop = async () => {
    await bouncer.kill();
    dir.remove();
  };

  const url = new URL(options.databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const admin = new URL(url);
  admin.pathname = '/pgbouncer';
  try {
    await waitFor(
      'PgBouncer to accept connections',
      async () => {
        if (bouncer.child.exitCode !== null || bouncer.child.signalCode !== null) {
          throw new Error(`pgbouncer exited: ${bouncer.output()}`);
        }
        const client = new pg.Client({ connectionString: url.toString() });
        await client.connect();
        try {
          await client.query('select 1');
          return true;
        } finally {
          await client.end();
        }
      },
      { timeoutMs: 15_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: url.toString(), adminUrl: admin.toString(), process: bouncer, stop };
}
