// `switchboard apikey` as an operator uses it on an embedded data directory: create prints the
// key once, a server accepts it, list shows it without its secret, and revoke shuts it out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliSandbox,
  cliSkipReason,
  freePort,
  skipAfterFailure,
  waitForStatus,
  type CliSandbox,
} from '../test-support/processes.js';

const cliSkip = cliSkipReason();

interface ListedKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  revokedAt: string | null;
}

// Every command opens PGlite (the first one also migrates it): seconds each on a busy machine.
describe.skipIf(cliSkip)(
  `switchboard apikey${cliSkip ? ` (skipped: ${cliSkip})` : ''}`,
  { timeout: 240_000 },
  () => {
    skipAfterFailure();
    let sandbox: CliSandbox;
    let created: ListedKey & { key: string };

    beforeAll(() => {
      sandbox = cliSandbox('sb-apikey-');
    });
    afterAll(() => sandbox.cleanup());

    const cli = (args: string[]) => sandbox.run(args);

    /** Runs `serve` on the data directory, calls broadcast with `key`, stops; returns the status. */
    async function broadcastThroughServer(key: string): Promise<number> {
      const port = await freePort();
      const server = sandbox.start(['serve'], { PORT: String(port), HOST: '127.0.0.1' });
      try {
        await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, { timeoutMs: 60_000 });
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/broadcast`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ event: { type: 'cli.checked' } }),
          signal: AbortSignal.timeout(10_000),
        });
        return response.status;
      } finally {
        server.child.kill('SIGTERM');
        expect((await server.waitForExit(30_000)).code, server.output()).toBe(0);
      }
    }

    it.each([
      [
        ['apikey', '--help'],
        ['create', 'list', 'revoke'],
      ],
      [
        ['apikey', 'create', '--help'],
        ['--name', '--scopes', 'publish, push, broadcast, admin', '--json'],
      ],
      [['apikey', 'list', '--help'], ['--json']],
      [
        ['apikey', 'revoke', '--help'],
        ['<key>', 'id (uuid) or prefix'],
      ],
    ])('prints help for %j', async (args, expected) => {
      const { code, output } = await cli(args);
      expect(code).toBe(0);
      for (const text of expected) expect(output).toContain(text);
    });

    it('refuses unknown scopes and a missing name before touching the database', async () => {
      const scopes = await cli(['apikey', 'create', '--name', 'x', '--scopes', 'publish,root']);
      expect(scopes.code).not.toBe(0);
      expect(scopes.output).toContain('expected a comma-separated list of publish, push');
      const name = await cli(['apikey', 'create']);
      expect(name.code).not.toBe(0);
      expect(name.output).toContain("required option '--name <name>'");
    });

    it('creates a key and prints it once', async () => {
      const human = await cli(['apikey', 'create', '--name', 'email backend']);
      expect(human.code, human.output).toBe(0);
      expect(human.output).toContain('Created API key "email backend"');
      expect(human.output.trim().split('\n').at(-1)).toMatch(/^sbk_[0-9a-f]{12}_[\w-]{43}$/);

      const json = await cli([
        'apikey',
        'create',
        '--name',
        'pushes',
        '--scopes',
        'push',
        '--json',
      ]);
      expect(json.code, json.output).toBe(0);
      created = JSON.parse(json.output.trim()) as ListedKey & { key: string };
      expect(created).toMatchObject({ name: 'pushes', scopes: ['push'], revokedAt: null });
      expect(created.key.startsWith(`${created.prefix}_`)).toBe(true);
    });

    it('lists keys with their prefixes and never their secrets', async () => {
      const table = await cli(['apikey', 'list']);
      expect(table.code, table.output).toBe(0);
      expect(table.output).toMatch(/^ID\s+PREFIX\s+NAME\s+SCOPES\s+CREATED\s+LAST USED\s+REVOKED/);
      expect(table.output).toContain(created.prefix);
      expect(table.output).not.toContain(created.key);
      const json = await cli(['apikey', 'list', '--json']);
      const keys = JSON.parse(json.output.trim()) as ListedKey[];
      expect(keys.map((k) => k.name).sort()).toEqual(['email backend', 'pushes']);
      expect(json.output).not.toContain(created.key);
    });

    it('the key works against a server on the same data, within its scopes', async () => {
      // `pushes` may push but not broadcast: 403 proves the key was recognised and checked.
      expect(await broadcastThroughServer(created.key)).toBe(403);
      const admin = await cli([
        'apikey',
        'create',
        '--name',
        'admin',
        '--scopes',
        'admin',
        '--json',
      ]);
      const adminKey = (JSON.parse(admin.output.trim()) as { key: string }).key;
      expect(await broadcastThroughServer(adminKey)).toBe(200);
      const revoke = await cli(['apikey', 'revoke', adminKey.split('_').slice(0, 2).join('_')]);
      expect(revoke.code, revoke.output).toBe(0);
      expect(revoke.output).toContain('Revoked API key "admin"');
      expect(await broadcastThroughServer(adminKey)).toBe(401);
    });

    it('revokes by id, shows it in the list, and says when nothing matches', async () => {
      const revoke = await cli(['apikey', 'revoke', created.id]);
      expect(revoke.code, revoke.output).toBe(0);
      const keys = JSON.parse(
        (await cli(['apikey', 'list', '--json'])).output.trim(),
      ) as ListedKey[];
      expect(keys.find((k) => k.id === created.id)?.revokedAt).toEqual(expect.any(String));
      const unknown = await cli(['apikey', 'revoke', 'sbk_ffffffffffff']);
      expect(unknown.code).toBe(1);
      expect(unknown.output).toContain('No API key has id or prefix sbk_ffffffffffff');
      const garbage = await cli(['apikey', 'revoke', 'email backend']);
      expect(garbage.code).toBe(2);
    });
  },
);
