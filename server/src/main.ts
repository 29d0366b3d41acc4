// Composition root: reads config once, builds every module, starts the requested roles.
import type { FastifyInstance } from 'fastify';
import { createMemoryBroker, type Broker } from './broker/index.js';
import type { Config, Role } from './config/index.js';
import { createHttpApp, Readiness } from './http/index.js';
import { Shutdown } from './lifecycle/index.js';
import {
  componentLogger,
  createMetrics,
  createTracing,
  registerHttpMetrics,
  registerHttpTracing,
  type Logger,
  type Metrics,
  type Tracing,
} from './observability/index.js';
import { chatRouteDocs, createChat, type Chat } from './chat/index.js';
import { createRelay, relayRouteDocs, type Relay } from './relay/index.js';
import { coreRouteDocs } from './api-docs.js';
import type { ApplicationModuleOptions } from './application-module.js';
import { registerApiDocs } from './http/openapi.js';
import { Pipeline, registerOutboxAdminRoutes } from './pipeline/index.js';
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
} from './ratelimit/index.js';
import { createPush, type ApiKeyVerifier, type Push } from './push/index.js';
import {
  adminPasswordAuth,
  createRealtime,
  type OperatorAuth,
  type Realtime,
} from './realtime/index.js';
import {
  isDatabaseUnavailable,
  openStore,
  runMigrations,
  usePreparedStatements,
  type Store,
} from './store/index.js';

export interface ServerOptions {
  config: Config;
  logger: Logger;
  roles?: readonly Role[];
  /** An already open store (tests pass a migrated template clone); opened from config otherwise. */
  store?: Store;
  /** The process's shutdown coordinator, when signals are wired before start-up (the CLI). */
  shutdown?: Shutdown;
  /** Runs after the modules are mounted and before listening; tests add routes here. */
  beforeListen?: (deps: {
    app: FastifyInstance;
    store: Store;
    broker: Broker;
    realtime: Realtime;
    pipeline: Pipeline;
    metrics: Metrics;
  }) => void | Promise<void>;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly broker: Broker;
  readonly realtime: Realtime;
  /** The outbox: transactional writer, fast path, relay workers (worker role). */
  readonly pipeline: Pipeline;
  /** Team chat: accounts, workspaces, channels, messages. */
  readonly chat: Chat;
  /** The Kakao ↔ OpenClaw relay. */
  readonly relay: Relay;
  /** Rate limits shared by every node (Redis) or this process (memory). */
  readonly rateLimiter: RateLimiter;
  /** The publish API for other backends (HTTP routes, gRPC PushService, API keys). */
  readonly push: Push;
  /** The process's metrics (one prom-client Registry), served at /metrics. */
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly shutdown: Shutdown;
  /** Base URL the HTTP server listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly port: number;
  readonly roles: readonly Role[];
  /** Drains and closes everything (what SIGTERM does), without exiting the process. */
  stop(reason?: string): Promise<void>;
}

/** Builds the broker named by config. */
export async function openBroker(config: Config, logger: Logger): Promise<Broker> {
  if (!config.REDIS_URL) return createMemoryBroker();
  const { createRedisBroker } = await import('./broker/redis-broker.js');
  return createRedisBroker({
    url: config.REDIS_URL,
    logger: componentLogger(logger, 'broker'),
    mode: config.PUBSUB_MODE,
  });
}

/** Rate limits in Redis when configured, so every node counts together; in memory otherwise. */
export async function openRateLimiter(config: Config, logger: Logger): Promise<RateLimiter> {
  if (!config.REDIS_URL) return createMemoryRateLimiter();
  const { connectPresenceRedis } = await import('./realtime/presence-redis-client.js');
  const redis = await connectPresenceRedis(
    config.REDIS_URL,
    componentLogger(logger, 'ratelimit'),
    'ratelimit',
  );
  return createRedisRateLimiter(redis, {
    ownsConnection: true,
    keyPrefix: config.RATE_LIMIT_KEY_PREFIX,
  });
}

/** Opens the store, waiting for a database that is still starting (e.g. in compose). */
export async function openStoreWithRetry(config: Config, logger: Logger): Promise<Store> {
  const log = componentLogger(logger, 'store');
  const store = await openStore({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    logger: log,
    applicationName: `switchboard:${config.INSTANCE_ID}`,
  });
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.ping(config.DATABASE_CONNECT_TIMEOUT_MS);
      return store;
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() > deadline) {
        await store.close();
        throw err;
      }
      log.warn({ attempt, err: (err as Error).message }, 'database not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
}

/**
 * The one operator check of every operator route (`/api/v1/nodes`, `/api/v1/admin/…`): an
 * admin-scoped server API key in Authorization, or else the admin password in X-Admin-Password.
 */
function operatorAuth(verifier: ApiKeyVerifier, adminPassword: string): OperatorAuth {
  const passwordAuth = adminPasswordAuth(adminPassword);
  return async (request) => {
    if (request.headers.authorization) {
      await verifier.authenticate(request.headers.authorization, 'admin');
    } else {
      await passwordAuth(request);
    }
  };
}

export function createShutdown(config: Config, logger: Logger): Shutdown {
  return new Shutdown({
    logger: componentLogger(logger, 'lifecycle'),
    timeoutMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const roles = options.roles ?? config.ROLES;
  const log = componentLogger(logger, 'main');

  usePreparedStatements(config.DATABASE_PREPARED_STATEMENTS);
  const store = options.store ?? (await openStoreWithRetry(config, logger));
  let broker: Broker | undefined;
  try {
    if (config.MIGRATE_ON_START) await runMigrations(store.db, componentLogger(logger, 'migrate'));
    broker = await openBroker(config, logger);
  } catch (err) {
    await store.close();
    throw err;
  }

  const readiness = new Readiness();
  readiness.add({ name: 'database', check: () => store.ping() });
  const activeBroker = broker;
  readiness.add({ name: 'broker', check: () => activeBroker.ping() });

  const app = createHttpApp({
    logger,
    readiness,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
  });
  const metrics = createMetrics();
  registerHttpMetrics(app, metrics);
  registerApiDocs(app, [coreRouteDocs, chatRouteDocs, relayRouteDocs]);
  let tracing: Tracing | undefined;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT) {
    tracing = await createTracing({
      endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: 'switchboard',
      instanceId: config.INSTANCE_ID,
    });
    registerHttpTracing(app, tracing.tracer);
  }

  const shutdown = options.shutdown ?? createShutdown(config, logger);
  shutdown.add('stop readiness', async () => {
    readiness.startDraining();
    if (config.SHUTDOWN_DRAIN_SECONDS > 0) {
      await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_SECONDS * 1000));
    }
  });
  let push: Push | undefined;
  let pipeline: Pipeline | undefined;
  let rateLimiter: RateLimiter | undefined;
  let chatModule: Chat | undefined;
  let relayModule: Relay | undefined;
  // Calls in flight still need the broker; half the deadline leaves the rest for HTTP.
  shutdown.add('close grpc', () => push?.close(config.SHUTDOWN_TIMEOUT_SECONDS * 500));
  // Fastify stops accepting, runs preClose hooks (streams say "reconnect elsewhere"), then waits
  // for in-flight requests.
  shutdown.add('close http', () => app.close());
  // After HTTP: requests that committed events have answered; their publishes finish here.
  shutdown.add('close pipeline', async () => pipeline?.close());
  shutdown.add('close rate limiter', async () => rateLimiter?.close());
  shutdown.add('stop chat jobs', async () => chatModule?.close());
  shutdown.add('stop relay jobs', async () => relayModule?.close());
  const activeTracing = tracing;
  if (activeTracing) shutdown.add('flush traces', () => activeTracing.shutdown());
  shutdown.add('close broker', () => activeBroker.close());
  shutdown.add('close store', () => store.close());

  let address: string;
  let realtime: Realtime;
  let chat: Chat;
  let relay: Relay;
  try {
    realtime = await createRealtime({
      app,
      broker: activeBroker,
      config,
      logger,
      serveClients: roles.includes('gateway'),
      roles,
      metrics,
      ...(tracing ? { tracer: tracing.tracer } : {}),
    });
    pipeline = new Pipeline({
      store,
      hub: realtime.hub,
      config,
      logger,
      metrics,
      runWorkers: roles.includes('worker'),
      broker: activeBroker,
    });
    push = createPush({
      app,
      db: store.db,
      hub: pipeline.publisherOver(realtime.hub),
      config,
      logger,
      serveApi: roles.includes('api'),
      metrics,
    });
    rateLimiter = await openRateLimiter(config, logger);
    const applicationModule: ApplicationModuleOptions = {
      app,
      db: store.db,
      pipeline,
      realtime,
      config,
      logger,
      rateLimiter,
      serveApi: roles.includes('api'),
      runJobs: roles.includes('worker'),
    };
    chat = createChat(applicationModule);
    chatModule = chat;
    relay = createRelay(applicationModule);
    relayModule = relay;
    const authorizeOperator = operatorAuth(push.verifier, config.ADMIN_PASSWORD);
    realtime.useOperatorAuth(authorizeOperator);
    if (roles.includes('api')) {
      registerOutboxAdminRoutes(app, { outbox: pipeline, authorizeOperator });
    }
    await options.beforeListen?.({
      app,
      store,
      broker: activeBroker,
      realtime,
      pipeline,
      metrics,
    });
    address = await app.listen({ host: config.HOST, port: config.PORT });
    await push.listen();
    await pipeline.start();
  } catch (err) {
    // Not through `shutdown`: a signal handler may be waiting on this very start-up.
    await push?.close(0).catch(() => undefined);
    await pipeline?.close().catch(() => undefined);
    await chatModule?.close().catch(() => undefined);
    await relayModule?.close().catch(() => undefined);
    await rateLimiter?.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    await tracing?.shutdown().catch(() => undefined);
    await activeBroker.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
  const port = (app.server.address() as { port: number }).port;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info(
    { address, roles, store: store.kind, broker: activeBroker.kind, instance: config.INSTANCE_ID },
    'switchboard started',
  );

  return {
    app,
    store,
    broker: activeBroker,
    realtime,
    pipeline,
    chat,
    relay,
    rateLimiter,
    push,
    metrics,
    readiness,
    shutdown,
    url,
    port,
    roles,
    stop: (reason = 'stop requested') => shutdown.run(reason),
  };
}
