// Seeded fuzzing of the HTTP APIs: every route the OpenAPI document lists gets requests made from
// its own schemas and then broken (fields missing, of the wrong type, huge, deeply nested, unknown
// or prototype-named; bodies that are not JSON or not objects; path and query values that are
// garbage), with valid, missing and forged credentials. Every answer must be a success or a 4xx
// in the error shape, never a 5xx, and the server must stay healthy. The seed is printed;
// FUZZ_SEED=<n> replays a run.
import http from 'node:http';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzSeed, prng, type Rng } from '../test-support/prng.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';

const seed = fuzzSeed();
const CASES_PER_ROUTE = 40;

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
};

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required?: boolean;
  schema?: JsonSchema;
}

interface Operation {
  method: string;
  path: string;
  /** Each a set of schemes that together authorize the call. */
  security: string[][];
  parameters: Parameter[];
  body?: JsonSchema;
}

/** Credentials per security scheme of the document, as request headers. */
type Credentials = Record<string, Record<string, string>>;

const hostileStrings = [
  '',
  ' ',
  'x'.repeat(5000),
  '\u0000',
  '\ud800',
  '한국어 中文 日本語',
  '<script>alert(1)</script>',
  "' or 1=1 --",
  '../../etc/passwd',
  '%00',
  '__proto__',
  'constructor',
  '-1',
  '1e309',
  'NaN',
  '0x10',
  '00000000-0000-0000-0000-000000000000',
  'null',
  '[]',
  '{}',
];

const hostileValues: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  [],
  {},
  [null],
  { $ne: 1 },
  { __proto__: { polluted: true } },
  ...hostileStrings,
];

function randomString(rng: Rng, schema: JsonSchema = {}): string {
  if (schema.format === 'uuid') return crypto.randomUUID();
  if (schema.format === 'email') return `fuzz${rng.int(1e9)}@example.com`;
  if (schema.format === 'date-time') return new Date(Date.now() - rng.int(1e9)).toISOString();
  const min = schema.minLength ?? 1;
  const max = Math.min(schema.maxLength ?? 24, min + 24);
  const length = min + rng.int(Math.max(1, max - min + 1));
  return Array.from({ length }, () => rng.pick([...'abcdefghijklmnopqrstuvwxyz0123456789_-'])).join(
    '',
  );
}

/** A value the schema probably accepts (constraints the generator does not know may fail it). */
function valueOf(rng: Rng, schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 6) return randomString(rng);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return rng.pick(schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union?.length) return valueOf(rng, rng.pick(union), depth + 1);
  if (schema.allOf?.length) {
    return Object.assign({}, ...schema.allOf.map((part) => valueOf(rng, part, depth + 1)));
  }
  const type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  switch (type) {
    case 'object': {
      const value: Record<string, unknown> = {};
      const required = new Set(schema.required ?? []);
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        if (required.has(key) || rng.next() < 0.5) value[key] = valueOf(rng, property, depth + 1);
      }
      return value;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const count = min + rng.int(Math.min(4, (schema.maxItems ?? min + 3) - min + 1));
      return Array.from({ length: count }, () => valueOf(rng, schema.items, depth + 1));
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? 0;
      const max = Math.min(schema.maximum ?? min + 100, min + 1000);
      const n = min + rng.next() * (max - min);
      return type === 'integer' ? Math.floor(n) : n;
    }
    case 'boolean':
      return rng.next() < 0.5;
    case 'null':
      return null;
    case 'string':
      return randomString(rng, schema);
    default:
      return rng.pick(hostileValues);
  }
}

function deeplyNested(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** The body of one case: raw text to send, or undefined for none. */
function bodyOf(rng: Rng, schema: JsonSchema | undefined): string | undefined {
  const valid = valueOf(rng, schema ?? { type: 'object' });
  const roll = rng.int(12);
  if (roll < 4 || typeof valid !== 'object' || valid === null || Array.isArray(valid)) {
    return roll === 0 ? undefined : JSON.stringify(roll < 4 ? valid : rng.pick(hostileValues));
  }
  const object = { ...(valid as Record<string, unknown>) };
  const keys = Object.keys(object);
  switch (roll) {
    case 4: // a field missing
      if (keys.length > 0) delete object[rng.pick(keys)];
      return JSON.stringify(object);
    case 5: // a field of the wrong type
    case 6:
      object[keys.length > 0 ? rng.pick(keys) : 'x'] = rng.pick(hostileValues);
      return JSON.stringify(object);
    case 7: // unknown and prototype-named fields
      return JSON.stringify({ ...object, unknownField: 1 }).replace(
        /^\{/,
        '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}},',
      );
    case 8: // a huge field
      object[keys.length > 0 ? rng.pick(keys) : 'x'] = 'y'.repeat(200_000 + rng.int(2_000_000));
      return JSON.stringify(object);
    case 9:
      return deeplyNested(rng.pick([100, 5000, 50_000]));
    case 10: // not JSON
      return rng.pick(['{', '{"a":', '[1,2', 'undefined', '\u0000\u0001', "{'a':1}", '']);
    default: // bytes
      return rng.bytes(rng.int(300)).toString('latin1');
  }
}

function pathOf(rng: Rng, operation: Operation, knownIds: Record<string, string[]>): string {
  return operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const known = knownIds[name] ?? [];
    const value =
      known.length > 0 && rng.next() < 0.5
        ? rng.pick(known)
        : rng.next() < 0.3
          ? crypto.randomUUID()
          : rng.pick(hostileStrings);
    return encode(value);
  });
}

/** Percent-encoded, or (for text that is not valid UTF-16) bytes that are not valid UTF-8. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80%FF';
  }
}

function queryString(query: Record<string, string | string[]>): string {
  const pairs = Object.entries(query).flatMap(([name, values]) =>
    [values].flat().map((value) => `${encode(name)}=${encode(value)}`),
  );
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}

function queryOf(rng: Rng, operation: Operation): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const parameter of operation.parameters.filter((p) => p.in === 'query')) {
    if (!parameter.required && rng.next() < 0.4) continue;
    const roll = rng.int(4);
    if (roll === 0) query[parameter.name] = rng.pick(hostileStrings);
    else if (roll === 1) query[parameter.name] = ['1', rng.pick(hostileStrings)];
    else query[parameter.name] = String(valueOf(rng, parameter.schema));
  }
  if (rng.next() < 0.1) query[rng.pick(['__proto__', 'constructor', 'limit[$gt]'])] = '1';
  return query;
}

function authOf(rng: Rng, operation: Operation, credentials: Credentials): Record<string, string> {
  const roll = rng.int(10);
  if (roll === 0) return {};
  if (roll === 1) {
    return rng.pick<Record<string, string>>([
      { authorization: 'Bearer x' },
      { authorization: `Bearer ${'a'.repeat(20)}.${'b'.repeat(20)}.${'c'.repeat(20)}` },
      // An unsigned token ("alg": "none") naming an admin.
      { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.' },
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      { 'x-admin-password': 'wrong' },
      { cookie: 'admin_session=0000; portal_session=zz; csrf_token=a' },
    ]);
  }
  const usable = operation.security.filter((schemes) => schemes.every((name) => credentials[name]));
  if (usable.length === 0) return {};
  return Object.assign({}, ...rng.pick(usable).map((name) => credentials[name]));
}

/** Streams never end on their own: they are read over a socket until their first bytes. */
const STREAMS = new Set(['GET /api/v1/events/stream', 'GET /v1/events']);
const streamCursors = [
  '',
  '5',
  '-1',
  '1e309',
  'abc',
  'broadcast=3',
  'a=1,b=x',
  's1',
  '9'.repeat(400),
];
const streamTopics = [
  'broadcast',
  '',
  'a,b,,c',
  'user.nobody',
  'x'.repeat(300),
  '*',
  'chat.channel.x',
];
/** The long poll waits as long as it is asked to: only a short or a broken wait. */
const LONG_POLL = 'GET /openclaw/messages';

describe(`HTTP API fuzz (${target}, seed ${seed})`, () => {
  let t: TestServer;
  let operations: Operation[];
  const credentials: Credentials = {};
  const knownIds: Record<string, string[]> = {};

  beforeAll(async () => {
    t = await startTestServer({
      env: {
        TRUST_PROXY: 'true',
        CHAT_RATE_LIMIT_IP_PER_MINUTE: '0',
        CHAT_RATE_LIMIT_WRITES_PER_MINUTE: '0',
      },
    });
    const spec = (
      await t.server.app.inject({ method: 'GET', url: '/api/docs/openapi.json' })
    ).json<{
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>();
    operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        security: ((op.security ?? []) as Record<string, unknown>[]).map((s) => Object.keys(s)),
        parameters: (op.parameters ?? []) as Parameter[],
        body: (
          op.requestBody as { content: { 'application/json': { schema: JsonSchema } } } | undefined
        )?.content['application/json'].schema,
      })),
    );

    // One set of working credentials per scheme, and ids that exist, so cases reach past the
    // authentication and lookups into the commands.
    const signup = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'fuzz@example.com', username: 'fuzzer', password: 'fuzz-password-1' },
    });
    expect(signup.statusCode, signup.body).toBe(201);
    const { accessToken, user } = signup.json<{ accessToken: string; user: { id: string } }>();
    credentials.bearerToken = { authorization: `Bearer ${accessToken}` };
    const workspace = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/workspaces',
      headers: credentials.bearerToken,
      payload: { name: 'Fuzz', slug: 'fuzz' },
    });
    expect(workspace.statusCode, workspace.body).toBe(201);
    const workspaceId = workspace.json<{ id: string }>().id;
    const channels = await t.server.app.inject({
      method: 'GET',
      url: `/api/v1/workspaces/${workspaceId}/channels`,
      headers: credentials.bearerToken,
    });
    const channelIds = channels.json<{ items: { id: string }[] }>().items.map((c) => c.id);
    const sent = await t.server.app.inject({
      method: 'POST',
      url: `/api/v1/channels/${channelIds[0]}/messages`,
      headers: credentials.bearerToken,
      payload: { body: 'hello @fuzzer' },
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const messageId = sent.json<{ id: string }>().id;
    Object.assign(knownIds, {
      id: [workspaceId, channelIds[0]!, messageId, user.id],
      workspaceId: [workspaceId],
      channelId: channelIds,
      userId: [user.id],
      emoji: ['thumbsup'],
    });

    const key = await t.server.push.createApiKey({
      name: 'fuzz',
      scopes: ['publish', 'push', 'broadcast', 'admin'],
    });
    credentials.apiKey = { authorization: `Bearer ${key.key}` };
    credentials.adminPassword = { 'x-admin-password': t.config.ADMIN_PASSWORD };

    // The relay's credentials: a portal owner (whose sign-up makes an account and shows its
    // agent token) and an admin console session, each cookie with its CSRF header.
    const portal = await t.server.app.inject({
      method: 'POST',
      url: '/portal/api/signup',
      payload: { email: 'owner@example.com', password: 'fuzz-password-1' },
    });
    expect(portal.statusCode, portal.body).toBe(201);
    const owner = portal.json<{ user: { id: string; accountId: string }; relayToken: string }>();
    credentials.agentToken = { authorization: `Bearer ${owner.relayToken}` };
    credentials.portalSession = sessionHeaders(portal.cookies);
    const admin = await t.server.app.inject({
      method: 'POST',
      url: '/admin/api/login',
      payload: { password: t.config.ADMIN_PASSWORD },
    });
    expect(admin.statusCode, admin.body).toBe(200);
    credentials.adminSession = sessionHeaders(admin.cookies);
    // Past the account's per-minute limit every agent case would only meet the 429.
    const unlimited = await t.server.app.inject({
      method: 'PATCH',
      url: `/admin/api/accounts/${owner.user.accountId}`,
      headers: credentials.adminSession,
      payload: { rateLimitPerMinute: 100_000 },
    });
    expect(unlimited.statusCode, unlimited.body).toBe(200);
    // Sent with the session it belongs to (above); the requirement only names it.
    credentials.csrfToken = {};
    knownIds.id!.push(owner.user.accountId, owner.user.id);
  });
  afterAll(() => t?.stop());

  // Thousands of requests: minutes of headroom on a loaded machine.
  it(
    'answers every case with a success or a 4xx in the error shape, and stays healthy',
    {
      timeout: 180_000,
    },
    async () => {
      const rng = prng(seed);
      const failures: string[] = [];
      let sent = 0;
      let succeeded = 0;
      // What ends a credential (logging out, new tokens, deletions) runs last, and the admin API
      // (which may disable the account or the user the other credentials belong to) before that.
      const order = (op: Operation) =>
        op.method === 'DELETE' || /logout|regenerate|unpair|disconnect/.test(op.path)
          ? 2
          : op.path.startsWith('/admin/api/')
            ? 1
            : 0;
      for (const operation of [...operations].sort((a, b) => order(a) - order(b))) {
        const key = `${operation.method} ${operation.path}`;
        for (let i = 0; i < CASES_PER_ROUTE; i++) {
          const headers: Record<string, string> = {
            'x-forwarded-for': `203.0.113.${rng.int(250) + 1}`,
            ...authOf(rng, operation, credentials),
          };
          const payload = ['GET', 'HEAD'].includes(operation.method)
            ? undefined
            : bodyOf(rng, operation.body);
          if (payload !== undefined) {
            headers['content-type'] = rng.pick([
              'application/json',
              'application/json',
              'application/json; charset=utf-8',
              'text/plain',
              'application/x-www-form-urlencoded',
            ]);
          }
          const query = queryOf(rng, operation);
          if (key === LONG_POLL) query.wait = rng.pick(['0', '-1', 'x', '1e309']);
          if (STREAMS.has(key)) {
            if (rng.next() < 0.7) query.topics = rng.pick(streamTopics);
            if (rng.next() < 0.5) headers['last-event-id'] = rng.pick(streamCursors);
          }
          const url = pathOf(rng, operation, knownIds) + queryString(query);
          const request: InjectOptions = {
            method: operation.method,
            url,
            headers,
            ...(payload === undefined ? {} : { payload }),
          };
          sent += 1;
          const response = STREAMS.has(key)
            ? await firstBytes(t.url + url, headers)
            : await t.server.app.inject(request);
          if (response.statusCode < 300) succeeded += 1;
          const problem =
            response.statusCode >= 500
              ? `status ${response.statusCode}`
              : response.statusCode >= 400 && !hasErrorShape(response.body)
                ? `status ${response.statusCode} without the error shape`
                : undefined;
          if (problem) {
            failures.push(
              `${key} → ${url.slice(0, 200)}: ${problem}: ${response.body.slice(0, 300)} (body: ${String(payload).slice(0, 200)})`,
            );
          }
        }
      }
      expect(failures, `seed ${seed}, ${sent} requests`).toEqual([]);
      const health = await t.server.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      expect(sent).toBeGreaterThan(operations.length * 10);
      // The credentials and ids worked: a share of the cases got past validation into the commands.
      expect(succeeded, `${succeeded} of ${sent} succeeded`).toBeGreaterThan(sent / 20);
    },
  );
});

/** A stream's status and its first bytes (all of an error's body), over a real socket. */
function firstBytes(
  url: string,
  headers: Record<string, string>,
): Promise<{ statusCode: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if ((response.statusCode ?? 0) < 400) {
          request.destroy();
          resolve({ statusCode: response.statusCode ?? 0, body });
        }
      });
      response.on('end', () => resolve({ statusCode: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`no bytes from ${url} in 5 s`)));
    request.on('error', (err) => {
      if (!request.destroyed || err.message.startsWith('no bytes')) reject(err);
    });
  });
}

/** A console session's cookies and the CSRF header its pages would send. */
function sessionHeaders(cookies: { name: string; value: string }[]): Record<string, string> {
  const csrf = cookies.find((c) => c.name === 'csrf_token')?.value ?? '';
  return {
    cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '),
    'x-csrf-token': csrf,
  };
}

function hasErrorShape(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string';
  } catch {
    return false;
  }
}
