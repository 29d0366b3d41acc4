// The API reference: `GET /api/docs/openapi.json` (OpenAPI 3.1) and `GET /api/docs` (Swagger UI
// from the installed swagger-ui-dist). The spec lists the API routes the server actually
// registered under DOCUMENTED_PREFIXES (collected with onRoute, so it follows the roles a process
// runs and the configuration) and describes each from the route docs modules supply: a summary,
// and request schemas given as zod schemas, converted with `z.toJSONSchema`. A route without docs
// is listed as undocumented, and the docs test fails on it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';

/** How one route is described; keyed by `METHOD /path/:param` in a RouteDocs table. */
export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  /** Groups routes in the UI: chat, push, realtime, operators, … */
  readonly tag: string;
  /**
   * Who may call it: a chat access token, a server API key, an operator credential, a relay
   * agent's token, an admin console or portal session, Kakao calling the webhook, anyone.
   */
  readonly auth:
    | 'user'
    | 'apiKey'
    | 'operator'
    | 'agentToken'
    | 'adminSession'
    | 'portalSession'
    | 'kakaoWebhook'
    | 'none';
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** The body may be left out: the route then reads it as `{}`, which `body` accepts. */
  readonly bodyOptional?: boolean;
  /** The success status when it is not 200 (201, 204, 202, 101). */
  readonly status?: number;
}

export type RouteDocs = Readonly<Record<string, RouteDoc>>;

export interface CollectedRoute {
  readonly method: string;
  readonly url: string;
}

/**
 * Where the API routes live: chat and the core under /api/v1, the relay's agent API, console
 * APIs and Kakao webhook at the paths its clients already call. The consoles' pages (`/admin`,
 * `/portal` and their fallbacks) are not API routes and stay out.
 */
export const DOCUMENTED_PREFIXES = [
  '/api/v1/',
  '/v1/',
  '/openclaw/',
  '/admin/api/',
  '/portal/api/',
  '/kakao-talkchannel/',
  '/kakao/',
] as const;

const isDocumented = (url: string) => DOCUMENTED_PREFIXES.some((prefix) => url.startsWith(prefix));

export const routeKey = (method: string, url: string) => `${method} ${url}`;

type JsonSchema = Record<string, unknown>;

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  try {
    const converted = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    const { $schema: _ignored, ...rest } = converted as JsonSchema;
    return rest;
  } catch {
    return {};
  }
}

const SECURITY: Record<RouteDoc['auth'], Record<string, string[]>[]> = {
  user: [{ bearerToken: [] }],
  apiKey: [{ apiKey: [] }],
  operator: [{ apiKey: [] }, { adminPassword: [] }],
  agentToken: [{ agentToken: [] }, { agentTokenQuery: [] }],
  adminSession: [{ adminSession: [] }],
  portalSession: [{ portalSession: [] }],
  // Each check applies only when its secret is configured, so every combination may be right.
  kakaoWebhook: [
    { webhookSecret: [], kakaoSignature: [] },
    { webhookSecret: [] },
    { kakaoSignature: [] },
    {},
  ],
  none: [],
};

/** Cookie sessions can be ridden by another site's form, so their writes need the CSRF header. */
const CSRF_CHECKED: ReadonlySet<RouteDoc['auth']> = new Set(['adminSession', 'portalSession']);
const CSRF_EXEMPT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

function securityOf(auth: RouteDoc['auth'], method: string): Record<string, string[]>[] {
  const security = SECURITY[auth];
  if (!CSRF_CHECKED.has(auth) || CSRF_EXEMPT_METHODS.has(method)) return security;
  return security.map((requirement) => ({ ...requirement, csrfToken: [] }));
}

const errorResponse = {
  description: 'An error in the error shape (see docs/errors.md for the codes).',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

function operationOf(route: CollectedRoute, doc: RouteDoc | undefined): JsonSchema {
  const pathParams = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const parameters: JsonSchema[] = pathParams.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (doc?.query) {
    const schema = jsonSchemaOf(doc.query);
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties)) {
      parameters.push({ name, in: 'query', required: required.has(name), schema: property });
    }
  }
  const status = String(doc?.status ?? 200);
  const operation: JsonSchema = {
    operationId: `${route.method.toLowerCase()}${route.url.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c?: string) => (c ? c.toUpperCase() : ''))}`,
    summary: doc?.summary ?? 'Undocumented',
    tags: [doc?.tag ?? 'undocumented'],
    security: securityOf(doc?.auth ?? 'none', route.method),
    responses: {
      [status]: { description: status === '204' ? 'Done, no content.' : 'Success.' },
      default: errorResponse,
    },
  };
  if (doc?.description) operation.description = doc.description;
  if (parameters.length > 0) operation.parameters = parameters;
  if (doc?.body) {
    operation.requestBody = {
      required: doc.bodyOptional !== true,
      content: { 'application/json': { schema: jsonSchemaOf(doc.body) } },
    };
  }
  return operation;
}

function serverVersion(): string {
  try {
    // server/package.json, from src/http and dist/http alike.
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The OpenAPI 3.1 document of the collected routes. */
export function buildOpenApi(routes: readonly CollectedRoute[], docs: RouteDocs): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const sorted = [...routes].sort((a, b) =>
    a.url === b.url ? a.method.localeCompare(b.method) : a.url.localeCompare(b.url),
  );
  for (const route of sorted) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operationOf(
      route,
      docs[routeKey(route.method, route.url)],
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard API',
      version: serverVersion(),
      description:
        'Team chat, the publish API for other backends, presence and operator endpoints, and the ' +
        'Kakao ↔ OpenClaw relay: its Kakao skill webhook (`/kakao-talkchannel/webhook`), the agent ' +
        'API the OpenClaw plugin calls (`/v1`, `/openclaw`), and the admin console and portal ' +
        'APIs (`/admin/api`, `/portal/api`). Realtime delivery is over WebSocket (`/ws`, ' +
        '`/api/v1/ws`) and SSE (`/api/v1/events/stream`; relay agents use `/v1/events`).',
    },
    paths,
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'A server API key: sbk_<prefix>_<secret>.',
        },
        adminPassword: { type: 'apiKey', in: 'header', name: 'X-Admin-Password' },
        agentToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A relay agent: an account's relay token (shown once, when the account is made or the token regenerated) or a plugin session token from `POST /v1/sessions/create`. The `token` query parameter, when present, is read first. An unknown token is 401, a session that is over (expired, disconnected, its account deleted) 410 `session_expired`, a disabled account 403 `account_disabled`; a session still waiting for its Kakao user may only open `GET /v1/events` (elsewhere 403 `session_not_paired`).",
        },
        agentTokenQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'token',
          description:
            'The relay or session token as a query parameter, for clients that cannot send headers (EventSource).',
        },
        adminSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'admin_session',
          description:
            'The admin console session: an HttpOnly cookie (path `/admin`, 24 hours) set by `POST /admin/api/login` with ADMIN_PASSWORD. Requests other than GET, HEAD and OPTIONS also need `X-CSRF-Token`.',
        },
        portalSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'portal_session',
          description:
            "A portal session: an HttpOnly cookie (path `/portal`) set by sign-up or sign-in (an owner, 7 days) or by `POST /portal/api/auth/code` (a Kakao user's read-only access-code session, 30 minutes). Owner routes refuse access-code sessions and `/portal/api/code/*` refuses owners (403); logout takes either. Requests other than GET, HEAD and OPTIONS also need `X-CSRF-Token`.",
        },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description:
            'The double-submit CSRF check of the console APIs: the value of the readable `csrf_token` cookie set with the session; missing or different is 403 `csrf_failed`.',
        },
        webhookSecret: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Relay-Secret',
          description:
            'Checked only while KAKAO_WEBHOOK_SECRET is set, before the body is read: the secret in this header or as the last path segment (`…/webhook/{secret}`), either one; missing or wrong is 401.',
        },
        kakaoSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Kakao-Signature',
          description:
            'Checked only while KAKAO_SIGNATURE_SECRET is set: the lower-hex HMAC-SHA256 of the raw body with that secret, optionally prefixed `sha256=`; missing or wrong is 401.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                details: {},
              },
            },
          },
        },
      },
    },
  };
}

const swaggerUiRoot = dirname(
  createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
);

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchboard API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

const SWAGGER_INIT = `window.ui = SwaggerUIBundle({ url: '/api/docs/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

export interface ApiDocs {
  /** The API routes registered so far (all of them once the server listens). */
  routes(): CollectedRoute[];
  /** The spec as served. */
  spec(): JsonSchema;
}

/**
 * Starts collecting routes (call it before any module registers one) and serves the docs.
 * `docs` are the route tables of every module; the spec is built on request, so routes
 * registered after this call are in it.
 */
export function registerApiDocs(app: FastifyInstance, docs: readonly RouteDocs[]): ApiDocs {
  const routes: CollectedRoute[] = [];
  const table: RouteDocs = Object.assign({}, ...docs) as RouteDocs;
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!isDocumented(route.url)) return;
    for (const method of [route.method].flat()) {
      // Fastify adds HEAD for every GET on its own.
      if (method === 'HEAD' && routes.some((r) => r.method === 'GET' && r.url === route.url)) {
        continue;
      }
      routes.push({ method, url: route.url });
    }
  });
  let cached: JsonSchema | undefined;
  const apiDocs: ApiDocs = {
    routes: () => [...routes],
    spec: () => (cached ??= buildOpenApi(routes, table)),
  };
  void app.register(fastifyStatic, {
    root: swaggerUiRoot,
    prefix: '/api/docs/assets/',
    decorateReply: false,
    index: false,
  });
  app.get('/api/docs', (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(SWAGGER_PAGE),
  );
  app.get('/api/docs/init.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(SWAGGER_INIT),
  );
  app.get('/api/docs/openapi.json', () => apiDocs.spec());
  return apiDocs;
}
