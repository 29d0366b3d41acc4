// The `switchboard` command as an operator uses it: help everywhere, config check, migrate.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliSkipReason, spawnCli } from './test-support/processes.js';
import { makeTempDir } from './test-support/services.js';

const cliSkip = cliSkipReason();

describe.skipIf(cliSkip)(`switchboard CLI${cliSkip ? ` (skipped: ${cliSkip})` : ''}`, () => {
  let dir: { path: string; remove(): void };
  beforeAll(() => {
    dir = makeTempDir('sb-cli-');
  });
  afterAll(() => dir.remove());

  async function cli(args: string[], env: Record<string, string> = {}) {
    const child = spawnCli(args, { cwd: dir.path, env: { LOG_LEVEL: 'warn', ...env } });
    const exit = await child.waitForExit(60_000);
    return { code: exit.code, output: child.output() };
  }

  it.each([
    [['--help'], ['serve', 'migrate', 'config']],
    [
      ['serve', '--help'],
      ['--roles', '--port'],
    ],
    [['migrate', '--help'], ['apply pending database migrations']],
    [['config', '--help'], ['check']],
    [['config', 'check', '--help'], ['secrets masked']],
  ])('prints help for %j', async (args, expected) => {
    const { code, output } = await cli(args);
    expect(code).toBe(0);
    for (const text of expected) expect(output).toContain(text);
  });

  it('rejects bad flags with a usage hint', async () => {
    const { code, output } = await cli(['serve', '--roles=api,chef']);
    expect(code).not.toBe(0);
    expect(output).toContain('expected a comma-separated list of api, gateway, worker');
  });

  it('config check prints the effective config with secrets masked', async () => {
    const { code, output } = await cli(['config', 'check'], {
      DATABASE_URL: 'postgres://app:s3cret-pw@db.internal:5432/app',
      ADMIN_PASSWORD: 'visible-no-more',
      PORT: '9999',
    });
    expect(code).toBe(0);
    expect(output).toContain('PORT=9999  # environment');
    expect(output).toContain('DATABASE_URL=postgres://app:****@db.internal:5432/app');
    expect(output).toContain('ADMIN_PASSWORD=****');
    expect(output).not.toContain('s3cret-pw');
    expect(output).not.toContain('visible-no-more');
    expect(output).toContain('Configuration is valid.');
  });

  it('stops with one line per bad key and a pointer to the docs', async () => {
    const { code, output } = await cli(['config', 'check'], { PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(code).toBe(2);
    expect(output).toContain('PORT: expected an integer from 0 to 65535');
    expect(output).toContain(
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(output).toContain('docs/operations.md');
  });

  it('migrate applies migrations to the embedded database, then finds nothing to do', async () => {
    const env = { DATA_DIR: join(dir.path, 'data') };
    const first = await cli(['migrate'], env);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/Applied [1-9]\d* migration\(s\); 0 were already applied/);
    const second = await cli(['migrate'], env);
    expect(second.output).toMatch(/Applied 0 migration\(s\); [1-9]\d* were already applied/);
  }, 90_000);
});
