// What the admin console and the portal share: their pages under /<name>, and an API scope under
// /<name>/api with cookies, the security headers and a JSON 404 for routes it does not have.
import { errorBody } from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { ensureCookieSupport } from './cookies.js';
import { addSecurityHeaders } from './security-headers.js';
import { consoleRoot, registerConsolePages, type ConsoleName } from './static-pages.js';

export function registerConsole(
  app: FastifyInstance,
  ctx: RelayContext,
  name: ConsoleName,
  registerApi: (api: FastifyInstance) => Promise<void>,
): void {
  const production = ctx.config.NODE_ENV === 'production';
  registerConsolePages(app, {
    name,
    root: consoleRoot(name, ctx.config.RELAY_STATIC_DIR, ctx.logger),
    production,
  });
  void app.register(
    async (api) => {
      await ensureCookieSupport(api);
      addSecurityHeaders(api, production);
      api.setNotFoundHandler((request, reply) =>
        reply
          .status(404)
          .send(
            errorBody('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`),
          ),
      );
      await registerApi(api);
    },
    { prefix: `/${name}/api` },
  );
}
