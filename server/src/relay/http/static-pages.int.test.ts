// Console pages: the built-in placeholders or RELAY_STATIC_DIR's builds, index.html for client
// routes, and API paths never answered with a page.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { BUILT_IN_STATIC_DIR } from './static-pages.js';

describe(`relay console pages (${target})`, () => {
  describe('built-in placeholders', () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer();
    });
    afterAll(() => t?.stop());

    it('serves the placeholder pages with the security headers, and index.html for client routes', async () => {
      for (const path of [
        '/admin',
        '/admin/',
        '/admin/accounts/123',
        '/portal',
        '/portal/connections',
      ]) {
        const response = await fetch(`${t.url}${path}`);
        expect(response.status, path).toBe(200);
        expect(response.headers.get('content-type'), path).toMatch(/text\/html/);
        expect(response.headers.get('content-security-policy'), path).toContain(
          "frame-ancestors 'none'",
        );
        expect(response.headers.get('x-frame-options')).toBe('DENY');
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        const html = await response.text();
        expect(html, path).toContain(
          path.startsWith('/admin') ? 'Relay admin console' : 'Relay portal',
        );
      }
    });

    it('never answers an API path with a page', async () => {
      for (const path of [
        '/admin/api/unknown',
        '/admin/api/accounts/x/y/z',
        '/portal/api/unknown',
        '/portal/api',
      ]) {
        const response = await fetch(`${t.url}${path}`);
        expect(response.status, path).toBe(404);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
          'not_found',
        );
      }
      const post = await fetch(`${t.url}/admin/somewhere`, { method: 'POST' });
      expect(post.status).toBe(404);
    });

    it('finds the built-in directory next to the sources and the build alike', () => {
      expect(BUILT_IN_STATIC_DIR.replace(/\\/g, '/')).toMatch(/\/server\/static$/);
    });
  });

  describe('RELAY_STATIC_DIR', () => {
    let t: TestServer;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'relay-static-'));
      mkdirSync(join(dir, 'admin', 'assets'), { recursive: true });
      writeFileSync(
        join(dir, 'admin', 'index.html'),
        '<!doctype html><title>operator build</title>',
      );
      writeFileSync(join(dir, 'admin', 'assets', 'app.js'), 'console.log("console app");');
      t = await startTestServer({ env: { RELAY_STATIC_DIR: dir } });
    });
    afterAll(async () => {
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("serves the operator's build and its assets; a console it lacks falls back to the placeholder", async () => {
      const page = await fetch(`${t.url}/admin/deep/link`);
      expect(await page.text()).toContain('operator build');
      const asset = await fetch(`${t.url}/admin/assets/app.js`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(await asset.text()).toContain('console app');
      const missing = await fetch(`${t.url}/admin/assets/missing.js`);
      expect(missing.status).toBe(404);
      const portal = await fetch(`${t.url}/portal/`);
      expect(await portal.text()).toContain('Relay portal');
    });
  });
});
