// The portal: its pages under /portal and its API under /portal/api. Sign-up, sign-in and the
// access-code sign-in are open; owners' routes need an owner session, the `/code/*` routes an
// access-code session, and state-changing calls the CSRF header.
import { errorBody } from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { ensureCookieSupport } from '../http/cookies.js';
import { addSecurityHeaders } from '../http/security-headers.js';
import { consoleRoot, registerConsolePages } from '../http/static-pages.js';
import { registerPortalAccountRoutes } from './account-routes.js';
import {
  registerPortalMeRoute,
  registerPortalPublicRoutes,
  registerPortalSessionRoutes,
} from './auth-routes.js';
import { registerPortalCodeRoutes } from './code-routes.js';
import { requirePortalSession } from './portal-auth.js';

export function registerPortalRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const production = ctx.config.NODE_ENV === 'production';
  registerConsolePages(app, {
    name: 'portal',
    root: consoleRoot('portal', ctx.config.RELAY_STATIC_DIR, ctx.logger),
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
      registerPortalPublicRoutes(api, ctx);
      await api.register((anySession, _options, done) => {
        anySession.addHook('onRequest', requirePortalSession(ctx));
        registerPortalSessionRoutes(anySession, ctx);
        done();
      });
      await api.register((owner, _options, done) => {
        owner.addHook('onRequest', requirePortalSession(ctx, 'user'));
        registerPortalMeRoute(owner);
        registerPortalAccountRoutes(owner, ctx);
        done();
      });
      await api.register((code, _options, done) => {
        code.addHook('onRequest', requirePortalSession(ctx, 'code'));
        registerPortalCodeRoutes(code, ctx);
        done();
      });
    },
    { prefix: '/portal/api' },
  );
}
