// The admin console: its pages under /admin and its API under /admin/api, behind the admin
// password's cookie session (login is the one open route) and the CSRF check.
import { errorBody } from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { ensureCookieSupport } from '../http/cookies.js';
import { addSecurityHeaders } from '../http/security-headers.js';
import { consoleRoot, registerConsolePages } from '../http/static-pages.js';
import { registerAdminAccountRoutes } from './account-routes.js';
import { registerAdminLogin, registerAdminLogout, requireAdmin } from './admin-auth.js';
import { registerAdminMappingRoutes } from './mapping-routes.js';
import { registerAdminMessageRoutes } from './message-routes.js';
import { registerAdminSessionRoutes } from './plugin-session-routes.js';
import { registerAdminStatsRoutes } from './stats-routes.js';
import { registerAdminUserRoutes } from './user-routes.js';

export function registerAdminRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const production = ctx.config.NODE_ENV === 'production';
  registerConsolePages(app, {
    name: 'admin',
    root: consoleRoot('admin', ctx.config.RELAY_STATIC_DIR, ctx.logger),
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
      registerAdminLogin(api, ctx);
      await api.register((guarded, _options, done) => {
        guarded.addHook('onRequest', requireAdmin(ctx));
        registerAdminLogout(guarded, ctx);
        registerAdminStatsRoutes(guarded, ctx);
        registerAdminAccountRoutes(guarded, ctx);
        registerAdminMappingRoutes(guarded, ctx);
        registerAdminMessageRoutes(guarded, ctx);
        registerAdminSessionRoutes(guarded, ctx);
        registerAdminUserRoutes(guarded, ctx);
        done();
      });
    },
    { prefix: '/admin/api' },
  );
}
