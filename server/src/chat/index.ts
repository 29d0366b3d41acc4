// Team chat: accounts, workspaces, channels and DMs, messages, read state and search, built on
// the realtime core (delivery, presence) and the pipeline (every change is an outbox event).
import { applicationContext, type ApplicationModuleOptions } from '../application-module.js';
import { registerAuthRoutes } from './accounts/routes/auth-routes.js';
import { registerUserRoutes } from './accounts/routes/user-routes.js';
import { registerChannelRoutes } from './channels/index.js';
import { registerDmRoutes } from './dms/index.js';
import { registerWorkspaceRoutes } from './workspaces/index.js';
import type { ChatContext } from './context.js';
import { scheduleChatCleanup } from './jobs/cleanup.js';
import { createAuthenticate, type Authenticate } from './http/authenticate.js';
import { registerChatRateLimits } from './http/rate-limits.js';
import { registerMessageRoutes } from './messages/index.js';
import { registerReadStateRoutes } from './read-state/index.js';
import { registerChatRealtime } from './realtime/index.js';
import { registerSearchRoutes } from './search/routes/search-routes.js';
import { registerSessionRoutes } from './sessions/routes/session-routes.js';
import { CHANNEL_TOPIC_PREFIX, USER_CHAT_TOPIC_PREFIX } from './topics.js';

export type { ChatContext } from './context.js';
export type { ChatUser } from './http/authenticate.js';
export { chatRouteDocs } from './http/openapi-docs.js';
export { activityTopic, channelTopic, CHANNEL_TOPIC_PREFIX, userChatTopic } from './topics.js';

export type ChatOptions = ApplicationModuleOptions;

export interface Chat {
  readonly context: ChatContext;
  readonly authenticate: Authenticate;
  /** Stops the clean-up jobs. */
  close(): Promise<void>;
}

export function createChat(options: ChatOptions): Chat {
  const context: ChatContext = applicationContext(options, 'chat');
  // Channel events go through the outbox and resume from PostgreSQL.
  options.pipeline.durableTopics.addPrefix(CHANNEL_TOPIC_PREFIX);
  options.pipeline.durableTopics.addPrefix(USER_CHAT_TOPIC_PREFIX);
  const authenticate = createAuthenticate(context);
  registerChatRealtime(context);
  if (options.serveApi) {
    const rateLimits = registerChatRateLimits(options.app, context);
    registerReadStateRoutes(options.app, context, authenticate);
    registerAuthRoutes(options.app, context);
    registerUserRoutes(options.app, context, authenticate);
    registerMessageRoutes(options.app, context, authenticate);
    registerSearchRoutes(options.app, context, authenticate);
    registerSessionRoutes(options.app, context, authenticate);
    registerWorkspaceRoutes(options.app, context, authenticate);
    registerChannelRoutes(options.app, context, authenticate);
    registerDmRoutes(options.app, context, authenticate);
    rateLimits.seal();
  }
  const stopCleanup = options.runJobs
    ? scheduleChatCleanup(options.db, context.logger.child({ part: 'cleanup' }))
    : () => Promise.resolve();
  return { context, authenticate, close: stopCleanup };
}
