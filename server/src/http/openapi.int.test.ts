// The API reference: every API route the server registers (under DOCUMENTED_PREFIXES) is in the
// OpenAPI document and documented; the Swagger UI page and its assets are served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { chatRouteDocs } from '../chat/index.js';
import { coreRouteDocs } from '../api-docs.js';
import { relayRouteDocs } from '../relay/index.js';
import { makeChatUser } from '../chat/test-support/api.js';

type Security = Record<string, string[]>[];

describe(`API docs (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    // With a webhook secret the relay also registers the `/:secret` webhook routes, so every
    // documented route exists.
    t = await startTestServer({ env: { KAKAO_WEBHOOK_SECRET: 'openapi-test-webhook-secret' } });
  });
  afterAll(() => t?.stop());

  it('documents every registered API route', async () => {
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
      `routes without an entry in a RouteDocs table (chat: server/src/chat/http/openapi-docs.ts, relay: server/src/relay/http/openapi-docs.ts, core: server/src/api-docs.ts):\n${undocumented.join('\n')}`,
    ).toEqual([]);
    // Every operation is a real route, and every documented route exists.
    for (const op of operations) {
      const [method, url] = op.key.split(' ') as [string, string];
      expect(t.server.app.hasRoute({ method: method, url }), op.key).toBe(true);
    }
    const listed = new Set(operations.map((op) => op.key));
    const stale = Object.keys({ ...coreRouteDocs, ...chatRouteDocs, ...relayRouteDocs }).filter(
      (key) => !listed.has(key),
    );
    expect(stale, `documented routes the server does not register:\n${stale.join('\n')}`).toEqual(
      [],
    );
    expect(new Set(operations.map((op) => op.operationId)).size).toBe(operations.length);
  });

  it('lists the relay routes with their credentials, and not the console pages', async () => {
    const response = await t.server.app.inject({ method: 'GET', url: '/api/docs/openapi.json' });
    const spec = JSON.parse(response.body) as {
      paths: Record<string, Record<string, { tags: string[]; security: Security }>>;
      components: { securitySchemes: Record<string, { in?: string; name?: string }> };
    };
    const operation = (path: string, method: string) => spec.paths[path]?.[method];

    expect(operation('/v1/reply', 'post')).toMatchObject({
      tags: ['relay: agent'],
      security: [{ agentToken: [] }, { agentTokenQuery: [] }],
    });
    expect(operation('/admin/api/accounts', 'get')).toMatchObject({
      tags: ['relay: admin'],
      security: [{ adminSession: [] }],
    });
    // State-changing console calls need the CSRF header besides the cookie.
    expect(operation('/admin/api/accounts', 'post')?.security).toEqual([
      { adminSession: [], csrfToken: [] },
    ]);
    expect(operation('/portal/api/token/regenerate', 'post')?.security).toEqual([
      { portalSession: [], csrfToken: [] },
    ]);
    expect(operation('/admin/api/login', 'post')?.security).toEqual([]);
    const webhook = operation('/kakao-talkchannel/webhook', 'post');
    expect(webhook?.tags).toEqual(['relay: kakao']);
    expect(webhook?.security).toContainEqual({ webhookSecret: [], kakaoSignature: [] });
    expect(operation('/kakao-talkchannel/webhook/{secret}', 'post')).toBeDefined();

    expect(spec.components.securitySchemes.adminSession).toMatchObject({
      in: 'cookie',
      name: 'admin_session',
    });
    expect(spec.components.securitySchemes.portalSession).toMatchObject({
      in: 'cookie',
      name: 'portal_session',
    });
    expect(
      Object.keys(spec.paths).filter((path) => /^\/(admin|portal)(\/\*?)?$/.test(path)),
    ).toEqual([]);
  });

  it('marks a request body required unless the route reads a missing one as {}', async () => {
    const docs = { ...coreRouteDocs, ...chatRouteDocs, ...relayRouteDocs };
    for (const [key, doc] of Object.entries(docs)) {
      if (doc.bodyOptional) {
        expect(doc.body, key).toBeDefined();
        expect(doc.body?.safeParse({}).success, `${key}: {} must parse`).toBe(true);
      }
    }
    const response = await t.server.app.inject({ method: 'GET', url: '/api/docs/openapi.json' });
    const spec = JSON.parse(response.body) as {
      paths: Record<string, Record<string, { requestBody?: { required: boolean } }>>;
    };
    const required = (path: string, method: string) =>
      spec.paths[path]?.[method]?.requestBody?.required;
    expect(required('/v1/pairing/generate', 'post')).toBe(false);
    expect(required('/admin/api/accounts/{id}', 'patch')).toBe(false);
    expect(required('/api/v1/messages/{id}/thread/read', 'put')).toBe(false);
    expect(required('/admin/api/login', 'post')).toBe(true);
    expect(required('/api/v1/publish', 'post')).toBe(true);

    // Leaving the body out is then accepted: here with a chat account's thread marker.
    const user = await makeChatUser(t.server, 'body');
    const missing = await user.call(
      'PUT',
      '/api/v1/messages/00000000-0000-7000-8000-000000000000/thread/read',
    );
    // Not a complaint about the body: the message does not exist.
    expect(missing.status).toBe(404);
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
