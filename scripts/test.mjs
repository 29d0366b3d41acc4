#!/usr/bin/env node
// Runs every check and test: lint, format, typecheck, build, then the suite on the embedded
// defaults (PGlite + in-memory broker), then the store/broker integration tests again against
// real PostgreSQL and Redis when they are reachable. Prints one closing summary line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const databaseUrl = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
// In CI the real-service pass is mandatory: a missing service must fail, not skip.
const requireServices =
  process.env.CI === 'true' || process.env.SWITCHBOARD_REQUIRE_SERVICES === '1';
const started = Date.now();
const reportDir = mkdtempSync(join(tmpdir(), 'sb-test-report-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const notes = [];

function heading(text) {
  const elapsed = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`\n=== ${text} (${elapsed}s elapsed)`);
}

function run(command, args, env = {}) {
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, TZ: 'UTC', ...env },
  });
  return result.status ?? 1;
}

function fail(message) {
  console.error(`\n${message}`);
  printSummary();
  rmSync(reportDir, { recursive: true, force: true });
  process.exit(1);
}

function printSummary() {
  for (const note of notes) console.log(note);
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  console.log(`\nAll tests finished in ${minutes} min.`);
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
}

function vitestPass(name, args, env) {
  const report = join(reportDir, `${name}.json`);
  const status = run(
    'npx',
    [
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...args,
    ],
    env,
  );
  let results;
  try {
    results = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    fail(`The ${name} test pass did not produce a report (exit ${status}).`);
  }
  totals.passed += results.numPassedTests;
  totals.failed += results.numFailedTests;
  totals.skipped += results.numPendingTests + results.numTodoTests;
  const skippedSuites = new Set();
  for (const file of results.testResults) {
    for (const test of file.assertionResults) {
      if (test.status !== 'passed' && test.status !== 'failed') {
        const suite = test.ancestorTitles.find((t) => t.includes('needs'));
        if (suite) skippedSuites.add(suite);
      }
    }
  }
  if (skippedSuites.size > 0) {
    notes.push(`Skipped in the ${name} pass:`);
    for (const suite of skippedSuites) notes.push(`  - ${suite}`);
  }
  if (status !== 0) fail(`The ${name} test pass failed (exit ${status}); see the output above.`);
}

function probeTcp(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    const done = (error) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(2000, () => done('timed out'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err) => done(err.code ?? err.message));
  });
}

async function probePostgres() {
  const tcp = await probeTcp(databaseUrl, 5432);
  if (tcp) return tcp;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return err.message;
  } finally {
    await client.end().catch(() => {});
  }
}

heading('Lint, format and typecheck');
if (run('npm', ['run', '--silent', 'check']) !== 0) {
  fail(
    'Lint, format or typecheck failed. Run `npm run format` for formatting; fix the rest as reported.',
  );
}

heading('Build');
if (run('npm', ['run', '--silent', 'build']) !== 0) fail('The build failed; see the output above.');

heading('Tests on the embedded defaults (PGlite, in-memory broker)');
vitestPass('embedded', [], { TEST_DATABASE_URL: '', TEST_REDIS_URL: '' });

heading(`Integration tests against real services (${databaseUrl}, ${redisUrl})`);
const [pgProblem, redisProblem] = await Promise.all([probePostgres(), probeTcp(redisUrl, 6379)]);
const missing = [];
if (pgProblem) missing.push(`PostgreSQL at ${databaseUrl}: ${pgProblem}`);
if (redisProblem) missing.push(`Redis at ${redisUrl}: ${redisProblem}`);
if (missing.length > 0) {
  const reason = `not reachable: ${missing.join('; ')}`;
  if (requireServices) {
    fail(`Real services are required here (CI) but ${reason}. Start them (see .ci/run).`);
  }
  notes.push(
    `Real-service pass SKIPPED: ${reason}.`,
    '  Start PostgreSQL and Redis (or set TEST_DATABASE_URL / TEST_REDIS_URL) to run it.',
  );
} else {
  vitestPass('real-services', ['.int.test.'], {
    TEST_DATABASE_URL: databaseUrl,
    TEST_REDIS_URL: redisUrl,
  });
}

rmSync(reportDir, { recursive: true, force: true });
printSummary();
process.exit(totals.failed > 0 ? 1 : 0);
