// The API reference: `GET /api/docs/openapi.json` (OpenAPI 3.1) and `GET /api/docs` (Swagger UI
// from the installed swagger-ui-dist). The spec lists the /api/v1 routes the server actually
// registered (collected with onRoute, so it follows the roles a process runs) and describes
// each from the route docs modules supply: a summary, and request schemas given as zod
// schemas, converted with `z.toJSONSchema`. A route without docs is listed as undocumented,
// and the docs test fails on it.
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
  /** Who may call it: a chat access token, a server API key, an operator credential, anyone. */
  readonly auth: 'user' | 'apiKey' | 'operator' | 'none';
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** The success status when it is not 200 (201, 204, 202, 101). */
  readonly status?: number;
}

export type RouteDocs = Readonly<Record<string, RouteDoc>>;

export interface CollectedRoute {
  readonly method: string;
  readonly url: string;
}

export const API_PREFIX = '/api/v1/';

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
  none: [],
};

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
    security: SECURITY[doc?.auth ?? 'none'],
    responses: {
      [status]: { description: status === '204' ? 'Done, no content.' : 'Success.' },
      default: errorResponse,
    },
  };
  if (doc?.description) operation.description = doc.description;
  if (parameters.length > 0) operation.parameters = parameters;
  if (doc?.body) {
    operation.requestBody = {
      required: true,
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
        'Team chat, the publish API for other backends, presence and operator endpoints. ' +
        'Realtime delivery is over WebSocket (`/ws`, `/api/v1/ws`) and SSE (`/api/v1/events/stream`).',
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
  /** The /api/v1 routes registered so far (all of them once the server listens). */
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
    if (!route.url.startsWith(API_PREFIX)) return;
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
