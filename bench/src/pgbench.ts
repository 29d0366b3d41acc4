// pgbench as the yardstick of the durable scenario: single-row insert transactions on the same
// database, so the pipeline's throughput can be read as a fraction of what PostgreSQL commits.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The table the script inserts into: the shape of an outbox row without its indexes. */
export const PGBENCH_TABLE = 'bench_pgbench_insert';

export const PGBENCH_SETUP = `create table ${PGBENCH_TABLE} (
  id bigserial primary key,
  topic text not null,
  payload jsonb not null,
  created_at timestamptz not null default now()
)`;

export function pgbenchScript(topics: number): string {
  return [
    `\\set n random(0, ${topics - 1})`,
    `insert into ${PGBENCH_TABLE} (topic, payload) values ` +
      `('durable.bench.' || (:n)::int, '{"type":"bench","t":0,"n":0}');`,
    '',
  ].join('\n');
}

export interface PgbenchRun {
  clients: number;
  threads: number;
  seconds: number;
}

/** pgbench's arguments for a postgres:// URL (host, port, user and database taken apart). */
export function pgbenchArgs(databaseUrl: string, scriptPath: string, run: PgbenchRun): string[] {
  const url = new URL(databaseUrl);
  const args = ['-n', '-M', 'prepared', '-c', String(run.clients), '-j', String(run.threads)];
  args.push('-T', String(run.seconds), '-f', scriptPath);
  if (url.hostname) args.push('-h', url.hostname);
  if (url.port) args.push('-p', url.port);
  if (url.username) args.push('-U', decodeURIComponent(url.username));
  args.push(decodeURIComponent(url.pathname.slice(1)));
  return args;
}

export interface PgbenchResult {
  tps: number;
  transactions: number;
  failed: number;
  latencyAverageMs: number | null;
}

/** Reads the summary pgbench prints at the end of a run. */
export function parsePgbench(output: string): PgbenchResult {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(output);
    return match?.[1] === undefined ? null : Number(match[1]);
  };
  const tps = number(/^tps = ([\d.]+) \(without initial connection time\)/m);
  const transactions = number(/^number of transactions actually processed: (\d+)/m);
  if (tps === null || transactions === null) {
    throw new Error(`pgbench printed no tps line:\n${output.slice(-2000)}`);
  }
  return {
    tps,
    transactions,
    failed: number(/^number of failed transactions: (\d+)/m) ?? 0,
    latencyAverageMs: number(/^latency average = ([\d.]+) ms/m),
  };
}

export const PGBENCH_MISSING =
  'pgbench is not installed (or not on PATH): install the PostgreSQL client tools ' +
  '(Debian/Ubuntu: `apt-get install postgresql-client`, which ships pgbench; RHEL/Fedora: ' +
  '`postgresql-contrib`), or point BENCH_PGBENCH at the binary';

/** Fails with PGBENCH_MISSING unless `command --version` runs. */
export async function checkPgbench(command: string): Promise<string> {
  try {
    return (await runCommand(command, ['--version'], 10_000)).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') throw new Error(PGBENCH_MISSING);
    throw err;
  }
}

/** Runs the insert script for `run.seconds` and returns pgbench's summary. */
export async function runPgbench(
  command: string,
  databaseUrl: string,
  topics: number,
  run: PgbenchRun,
): Promise<PgbenchResult & { command: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-pgbench-'));
  try {
    const script = join(dir, 'insert.sql');
    writeFileSync(script, pgbenchScript(topics));
    const args = pgbenchArgs(databaseUrl, script, run);
    const out = await runCommand(command, args, (run.seconds + 60) * 1000);
    return { ...parsePgbench(out), command: `pgbench ${args.slice(0, 9).join(' ')} -f insert.sql` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runCommand(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) {
        resolve(`${stdout}\n${stderr}`);
        return;
      }
      const failure: NodeJS.ErrnoException = new Error(
        `${command} failed: ${err.message}\n${stderr.slice(-2000)}`,
      );
      // Kept so the caller can tell a missing binary from a failed run.
      if (typeof err.code === 'string') failure.code = err.code;
      reject(failure);
    });
  });
}
