// Realtime core: hub, topics, WebSocket and SSE transports, authentication. Knows nothing of chat
// or the relay; they use its API (publish/push/broadcast, topic policies, ops).
import type { FastifyInstance } from 'fastify';
import type { Broker } from '../broker/index.js';
import type { Config } from '../config/index.js';
import { componentLogger, type Logger, type Metrics, type Tracer } from '../observability/index.js';
import {
  createAuthenticator,
  resolvingAuthenticator,
  type Authenticator,
  type IdentityResolver,
} from './auth.js';
import { Hub, type DefaultTopicsProvider } from './hub.js';
import { instrumentRealtime } from './instrument.js';
import { handshakeClientIp, limitsFromConfig } from './limits.js';
import { OpRegistry } from './ops.js';
import type { NodeRegistry } from './nodes.js';
import type { Presence } from './presence.js';
import { createPresenceModule } from './presence-module.js';
import type { OperatorAuth } from './presence-routes.js';
import { registerSseTransport } from './sse-transport.js';
import { TopicPolicies } from './topics.js';
import { attachWebSocketTransport } from './ws-transport.js';

export { AuthError, createAuthenticator } from './auth.js';
export type { Authenticator, Identity, IdentityResolver } from './auth.js';
export type { Connection, ConnectionSink, OutgoingEvent } from './connection.js';
export { encodeEvent } from './event-encoding.js';
export { DurableTopicError, Hub, makeOutgoing } from './hub.js';
export type {
  ConnectionChange,
  DefaultTopicsProvider,
  EventReaction,
  HistorySource,
  HubOptions,
  ReactedEvent,
} from './hub.js';
export { OpError, OpRegistry } from './ops.js';
export type { NodeInfo, NodeRegistry } from './nodes.js';
export { Presence } from './presence.js';
export type { PresenceChangedEvent } from './presence.js';
export {
  adminPasswordAuth,
  NODES_PATH,
  PRESENCE_PATH,
  type OperatorAuth,
  type PresenceEntry,
} from './presence-routes.js';
export type { PresenceState } from './presence-store.js';
export type { OpHandler } from './ops.js';
export { SSE_PATH } from './sse-transport.js';
export {
  BROADCAST_TOPIC,
  presenceTopic,
  TopicPolicies,
  userTopic,
  type TopicPolicy,
} from './topics.js';
export { WS_PATHS } from './ws-transport.js';

export interface Realtime {
  readonly hub: Hub;
  /** Verifies tokens only; the transports also apply the identity resolver (`useIdentityResolver`). */
  readonly auth: Authenticator;
  readonly policies: TopicPolicies;
  readonly ops: OpRegistry;
  /** Who is online across every node (query, onlineUsers, isOnline). */
  readonly presence: Presence;
  /** Live nodes of the deployment. */
  readonly nodes: NodeRegistry;
  /** Replaces the operator check of `GET /api/v1/nodes` (X-Admin-Password by default). */
  readonly useOperatorAuth: (check: OperatorAuth) => void;
  /**
   * Adds a module's topics to those every WebSocket connection is subscribed to when it
   * authenticates (chat: the user's channels); the auth reply gives their positions.
   */
  readonly useDefaultTopics: (provider: DefaultTopicsProvider) => void;
  /**
   * Maps every identity a client authenticates with (WebSocket, SSE, presence queries) before
   * the hub sees it, so a connection is keyed by the module's user id (chat: an external
   * provider's subject becomes the chat account's id). One resolver.
   */
  readonly useIdentityResolver: (resolver: IdentityResolver) => void;
}

export interface RealtimeOptions {
  app: FastifyInstance;
  broker: Broker;
  config: Config;
  logger: Logger;
  /** Mount the WebSocket and SSE endpoints (the gateway role). */
  serveClients: boolean;
  metrics?: Metrics;
  /** Set when tracing is on. */
  tracer?: Tracer;
  /** The roles this process runs, as announced in the node registry; config.ROLES by default. */
  roles?: readonly string[];
}

export async function createRealtime(options: RealtimeOptions): Promise<Realtime> {
  const { app, broker, config } = options;
  const logger = componentLogger(options.logger, 'realtime');
  const auth = await createAuthenticator(config);
  if (auth.devMode) {
    logger.warn('dev-mode authentication: any token is taken as the user id (never in production)');
  }
  let identityResolver: IdentityResolver | undefined;
  const clientAuth = resolvingAuthenticator(auth, () => identityResolver);
  const hub = new Hub({
    broker,
    logger: logger.child({ part: 'hub' }),
    history: {
      maxLength: config.REALTIME_HISTORY_SIZE,
      ttlSeconds: config.REALTIME_HISTORY_TTL_SECONDS,
    },
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
  });
  hub.start();
  const stopInstruments = options.metrics
    ? instrumentRealtime(hub, broker, options.metrics)
    : () => undefined;
  const policies = new TopicPolicies();
  const ops = new OpRegistry();

  if (options.serveClients) {
    const limits = limitsFromConfig(config, (userId) => hub.userConnectionCount(userId));
    const common = {
      app,
      hub,
      auth: clientAuth,
      policies,
      maxBufferBytes: config.REALTIME_MAX_BUFFER_BYTES,
      pingIntervalMs: config.REALTIME_PING_INTERVAL_SECONDS * 1000,
      admitUser: (userId: string) => limits.admitUser(userId),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    };
    const ws = attachWebSocketTransport({
      ...common,
      ops,
      logger: logger.child({ part: 'ws' }),
      pongTimeoutMs: config.REALTIME_PONG_TIMEOUT_SECONDS * 1000,
      authTimeoutMs: config.REALTIME_AUTH_TIMEOUT_SECONDS * 1000,
      perMessageDeflate: config.REALTIME_PERMESSAGE_DEFLATE,
      clientIp: (request) => handshakeClientIp(request, config.TRUST_PROXY),
      admit: (_request, ip) => limits.admit(ip),
    });
    const sse = registerSseTransport({
      ...common,
      logger: logger.child({ part: 'sse' }),
      admit: (request) => limits.admit(request.ip),
    });
    // Before Fastify waits for in-flight requests: streams never finish on their own.
    app.addHook('preClose', (done) => {
      ws.close();
      sse.close();
      hub.closeAll();
      done();
    });
  }
  app.addHook('onClose', (_instance, done) => {
    stopInstruments();
    hub.stop();
    done();
  });
  const { presence, nodes, useOperatorAuth } = await createPresenceModule({
    app,
    hub,
    auth: clientAuth,
    ops,
    config,
    logger,
    roles: options.roles ?? config.ROLES,
  });
  return {
    hub,
    auth,
    policies,
    ops,
    presence,
    nodes,
    useOperatorAuth,
    useDefaultTopics: (provider) => hub.useDefaultTopics(provider),
    useIdentityResolver: (resolver) => {
      if (identityResolver) throw new Error('an identity resolver is set already');
      identityResolver = resolver;
    },
  };
}
