// The admin console: its pages under /admin and its API under /admin/api, behind the admin
// password's cookie session (login is the one open route) and the CSRF check.
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { registerConsole } from '../http/console.js';
import { registerAdminAccountRoutes } from './account-routes.js';
import { registerAdminLogin, registerAdminLogout, requireAdmin } from './admin-auth.js';
import { registerAdminMappingRoutes } from './mapping-routes.js';
import { registerAdminMessageRoutes } from './message-routes.js';
import { registerAdminSessionRoutes } from './plugin-session-routes.js';
import { registerAdminStatsRoutes } from './stats-routes.js';
import { registerAdminUserRoutes } from './user-routes.js';

export function registerAdminRoutes(app: FastifyInstance, ctx: RelayContext): void {
  registerConsole(app, ctx, 'admin', async (api) => {
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
  });
}
