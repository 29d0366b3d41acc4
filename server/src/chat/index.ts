// Team chat: accounts, workspaces, channels and DMs, messages, read state and search, built on
// the realtime core (delivery, presence) and the pipeline (every change is an outbox event).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { componentLogger, type Logger } from '../observability/index.js';
import type { Pipeline } from '../pipeline/index.js';
import type { RateLimiter } from '../ratelimit/index.js';
import type { Realtime } from '../realtime/index.js';
import type { Database } from '../store/index.js';
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

export interface ChatOptions {
  app: FastifyInstance;
  db: Database;
  pipeline: Pipeline;
  realtime: Realtime;
  config: Config;
  logger: Logger;
  rateLimiter: RateLimiter;
  /** Mount the REST routes (the api role). */
  serveApi: boolean;
  /** Run the clean-up jobs here (the worker role). */
  runJobs?: boolean;
  now?: () => number;
}

export interface Chat {
  readonly context: ChatContext;
  readonly authenticate: Authenticate;
  /** Stops the clean-up jobs. */
  close(): Promise<void>;
}

export function createChat(options: ChatOptions): Chat {
  const context: ChatContext = {
    db: options.db,
    pipeline: options.pipeline,
    realtime: options.realtime,
    config: options.config,
    logger: componentLogger(options.logger, 'chat'),
    rateLimiter: options.rateLimiter,
    now: options.now ?? Date.now,
  };
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
