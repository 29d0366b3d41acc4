// The agent-facing API (what the OpenClaw plugin and other agents call): the SSE stream and
// long-poll, replies, acks, owner pairing and plugin sessions.
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { createAgentDelivery } from '../delivery/delivery.js';
import { registerEventsRoute } from '../delivery/events-route.js';
import { registerLongPollRoute } from '../delivery/long-poll-route.js';
import { registerMessageRoutes } from './message-routes.js';
import { registerPairingRoutes } from './pairing-routes.js';
import { registerReplyRoutes } from './reply-routes.js';
import { registerSessionRoutes } from './session-routes.js';

export function registerOpenClawRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const delivery = createAgentDelivery(app, ctx);
  registerEventsRoute(app, ctx, delivery);
  registerLongPollRoute(app, ctx, delivery);
  registerReplyRoutes(app, ctx);
  registerMessageRoutes(app, ctx);
  registerPairingRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
}
