// The portal: its pages under /portal and its API under /portal/api. Sign-up, sign-in and the
// access-code sign-in are open; owners' routes need an owner session, the `/code/*` routes an
// access-code session, and state-changing calls the CSRF header.
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { registerConsole } from '../http/console.js';
import { registerPortalAccountRoutes } from './account-routes.js';
import {
  registerPortalMeRoute,
  registerPortalPublicRoutes,
  registerPortalSessionRoutes,
} from './auth-routes.js';
import { registerPortalCodeRoutes } from './code-routes.js';
import { requirePortalSession } from './portal-auth.js';

export function registerPortalRoutes(app: FastifyInstance, ctx: RelayContext): void {
  registerConsole(app, ctx, 'portal', async (api) => {
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
  });
}
