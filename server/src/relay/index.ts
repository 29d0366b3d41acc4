// The Kakao ↔ OpenClaw relay: a KakaoTalk channel's webhook routed to many OpenClaw agents.
// Kakao posts SkillPayloads to the webhook; paired conversations' messages become outbox events
// on their account's topic and reach the agent's SSE stream (or long-poll) through the realtime
// core; the agent's reply goes back to Kakao's single-use callback URL.
import { applicationContext, type ApplicationModuleOptions } from '../application-module.js';
import { registerAdminRoutes } from './admin/routes.js';
import type { RelayContext } from './context.js';
import { scheduleRelayCleanup } from './jobs/cleanup.js';
import { registerKakaoRoutes } from './kakao/routes.js';
import { registerOpenClawRoutes } from './openclaw/routes.js';
import { registerPortalRoutes } from './portal/routes.js';
import { RELAY_TOPIC_PREFIX } from './topics.js';

export type { RelayContext } from './context.js';
export { relayRouteDocs } from './http/openapi-docs.js';

export type RelayOptions = ApplicationModuleOptions;

export interface Relay {
  readonly context: RelayContext;
  /** Stops the clean-up jobs. */
  close(): Promise<void>;
}

export function createRelay(options: RelayOptions): Relay {
  const context: RelayContext = applicationContext(options, 'relay');
  // Agent events go through the outbox and resume from PostgreSQL.
  options.pipeline.durableTopics.addPrefix(RELAY_TOPIC_PREFIX);
  if (options.serveApi) {
    registerKakaoRoutes(options.app, context);
    registerOpenClawRoutes(options.app, context);
    registerAdminRoutes(options.app, context);
    registerPortalRoutes(options.app, context);
  }
  const stopCleanup = options.runJobs ? scheduleRelayCleanup(context) : () => Promise.resolve();
  return { context, close: stopCleanup };
}
