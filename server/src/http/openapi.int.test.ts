// The API reference: every /api/v1 route the server registers is in the OpenAPI document and
// documented; the Swagger UI page and its assets are served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { chatRouteDocs } from '../chat/index.js';
import { coreRouteDocs } from '../api-docs.js';

describe(`API docs (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  it('documents every registered /api/v1 route', async () => {
    const response = await t.server.app.inject({ method: 'GET', url: '/api/docs/openapi.json' });
    expect(response.statusCode).toBe(200);
    const spec = JSON.parse(response.body) as {
      openapi: string;
      paths: Record<string, Record<string, { summary: string; operationId: string }>>;
    };
    expect(spec.openapi).toBe('3.1.0');
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        key: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        ...op,
      })),
    );
    expect(operations.length).toBeGreaterThan(10);
    const undocumented = operations
      .filter((op) => op.summary === 'Undocumented')
      .map((op) => op.key);
    expect(
      undocumented,
      `routes without an entry in a RouteDocs table (chat: server/src/chat/http/openapi-docs.ts, core: server/src/api-docs.ts):\n${undocumented.join('\n')}`,
    ).toEqual([]);
    // Every operation is a real route, and every documented route exists.
    for (const op of operations) {
      const [method, url] = op.key.split(' ') as [string, string];
      expect(t.server.app.hasRoute({ method: method, url }), op.key).toBe(true);
    }
    const listed = new Set(operations.map((op) => op.key));
    const stale = Object.keys({ ...coreRouteDocs, ...chatRouteDocs }).filter(
      (key) => !listed.has(key),
    );
    expect(stale, `documented routes the server does not register:\n${stale.join('\n')}`).toEqual(
      [],
    );
    expect(new Set(operations.map((op) => op.operationId)).size).toBe(operations.length);
  });

  it('serves Swagger UI from the installed package', async () => {
    const page = await t.server.app.inject({ method: 'GET', url: '/api/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('/api/docs/assets/swagger-ui-bundle.js');
    const bundle = await t.server.app.inject({
      method: 'GET',
      url: '/api/docs/assets/swagger-ui-bundle.js',
    });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
    const init = await t.server.app.inject({ method: 'GET', url: '/api/docs/init.js' });
    expect(init.body).toContain('/api/docs/openapi.json');
  });
});
