// The admin console and the portal pages: `/admin/*` and `/portal/*` from RELAY_STATIC_DIR
// (`admin/`, `portal/`), or the built-in placeholders in server/static. Unknown page paths get
// index.html so the single-page apps can route on the client; API paths are never answered
// with a page, so a mistyped API call is a JSON 404.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { errorBody } from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../observability/index.js';
import { addSecurityHeaders } from './security-headers.js';

/** server/static, from src/relay/http (tsx) and from dist/relay/http (the build) alike. */
export const BUILT_IN_STATIC_DIR = fileURLToPath(new URL('../../../static', import.meta.url));

export type ConsoleName = 'admin' | 'portal';

/** Where a console's files are served from: the operator's build, else the placeholder. */
export function consoleRoot(
  name: ConsoleName,
  staticDir: string | undefined,
  logger: Logger,
): string {
  if (staticDir) {
    const root = join(staticDir, name);
    if (existsSync(join(root, 'index.html'))) return root;
    logger.warn({ root }, `RELAY_STATIC_DIR has no ${name}/index.html; serving the placeholder`);
  }
  return join(BUILT_IN_STATIC_DIR, name);
}

export function registerConsolePages(
  app: FastifyInstance,
  options: { name: ConsoleName; root: string; production: boolean },
): void {
  const apiPrefix = `/${options.name}/api`;
  void app.register(
    async (scope) => {
      addSecurityHeaders(scope, options.production);
      await scope.register(fastifyStatic, {
        root: options.root,
        prefix: '/',
        index: ['index.html'],
        // The pages change with a deploy; the browser revalidates instead of guessing.
        maxAge: 0,
      });
      scope.get('/', (_request, reply) => reply.sendFile('index.html'));
      scope.setNotFoundHandler((request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        const isApi = path === apiPrefix || path.startsWith(`${apiPrefix}/`);
        // A missing file (`/admin/assets/app.js`) is a 404, not a page the browser would try
        // to run as a script; extension-less paths are the app's own routes.
        const isFile = /\.[A-Za-z0-9]+$/.test(path);
        if (isApi || isFile || (request.method !== 'GET' && request.method !== 'HEAD')) {
          return reply
            .status(404)
            .send(errorBody('not_found', `No route for ${request.method} ${path}`));
        }
        return reply.type('text/html; charset=utf-8').sendFile('index.html');
      });
    },
    { prefix: `/${options.name}` },
  );
}
