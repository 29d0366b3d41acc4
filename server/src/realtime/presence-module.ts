// Builds presence and the node registry for createRealtime: Redis-backed with REDIS_URL, memory
// otherwise; mounts their routes and op; at shutdown removes this node's entries promptly.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { Authenticator } from './auth.js';
import type { Hub } from './hub.js';
import { createMemoryNodeRegistry, NodeAnnouncer, type NodeRegistry } from './nodes.js';
import type { OpRegistry } from './ops.js';
import { Presence } from './presence.js';
import { adminPasswordAuth, registerPresenceRoutes, type OperatorAuth } from './presence-routes.js';
import { createMemoryPresenceStore } from './presence-store-memory.js';
import type { PresenceStore } from './presence-store.js';

export interface PresenceModuleOptions {
  app: FastifyInstance;
  hub: Hub;
  auth: Authenticator;
  ops: OpRegistry;
  config: Config;
  logger: Logger;
  roles: readonly string[];
}

function serverVersion(): string {
  try {
    // server/package.json, from src/realtime and dist/realtime alike.
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function listeningUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

export async function createPresenceModule(options: PresenceModuleOptions): Promise<{
  presence: Presence;
  nodes: NodeRegistry;
  useOperatorAuth: (check: OperatorAuth) => void;
}> {
  const { app, hub, config, logger } = options;
  let redis: Redis | undefined;
  let store: PresenceStore;
  let nodes: NodeRegistry;
  if (config.REDIS_URL) {
    const [{ connectPresenceRedis }, { createRedisPresenceStore }, { createRedisNodeRegistry }] =
      await Promise.all([
        import('./presence-redis-client.js'),
        import('./presence-store-redis.js'),
        import('./nodes-redis.js'),
      ]);
    redis = await connectPresenceRedis(config.REDIS_URL, logger);
    store = createRedisPresenceStore({ redis });
    nodes = createRedisNodeRegistry({ redis });
  } else {
    store = createMemoryPresenceStore();
    nodes = createMemoryNodeRegistry();
  }

  const presence = new Presence({
    hub,
    store,
    nodeId: config.INSTANCE_ID,
    logger: logger.child({ part: 'presence' }),
    leaseMs: config.PRESENCE_LEASE_SECONDS * 1000,
  });
  let operatorAuth = adminPasswordAuth(config.ADMIN_PASSWORD);
  const startedAt = new Date().toISOString();
  const version = serverVersion();
  const announcer = new NodeAnnouncer({
    registry: nodes,
    leaseMs: config.NODE_LEASE_SECONDS * 1000,
    logger: logger.child({ part: 'nodes' }),
    describe: () => ({
      id: config.INSTANCE_ID,
      url: listeningUrl(app, config.HOST),
      roles: [...options.roles],
      connections: hub.connectedCount(),
      startedAt,
      version,
    }),
  });
  try {
    await presence.start();
  } catch (err) {
    redis?.disconnect();
    throw err;
  }
  registerPresenceRoutes({
    app,
    hub,
    auth: options.auth,
    ops: options.ops,
    presence,
    nodes,
    authorizeOperator: (request) => operatorAuth(request),
  });
  // The address is known once listening.
  app.addHook('onListen', async () => {
    await announcer.start();
  });
  // Before in-flight requests are awaited, so watchers learn at once who went offline here.
  app.addHook('preClose', async () => {
    await Promise.all([presence.stop(), announcer.stop()]);
  });
  app.addHook('onClose', async () => {
    await Promise.all([presence.stop(), announcer.stop()]);
    await store.close();
    if (redis) await redis.quit().catch(() => redis?.disconnect());
  });
  return {
    presence,
    nodes,
    useOperatorAuth: (check) => {
      operatorAuth = check;
    },
  };
}
