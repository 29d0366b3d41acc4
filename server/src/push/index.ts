// Push: the publish API for other backends — HTTP routes and a gRPC PushService over the realtime
// hub, authenticated with server API keys (core.api_keys).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { componentLogger, type Logger } from '../observability/index.js';
import type { Database } from '../store/index.js';
import { ApiKeyVerifier } from './api-key-verifier.js';
import { createApiKey, type CreateApiKeyInput } from './commands/create-api-key.js';
import type { Publisher } from './commands/publisher.js';
import { revokeApiKey } from './commands/revoke-api-key.js';
import { startGrpcServer, type GrpcServer } from './grpc/grpc-server.js';
import type { PushMetricsSink } from './metrics.js';
import type { ApiKeyView } from './presenters/api-key.js';
import { registerPublishRoutes } from './routes/publish-routes.js';
import { PUSH_USER_IDS_ALLOWANCE } from './schemas.js';

export { ApiKeyVerifier, bearerToken } from './api-key-verifier.js';
export type { ApiKeyPrincipal, ApiKeyVerifierOptions } from './api-key-verifier.js';
export { createApiKey, createApiKeyInput } from './commands/create-api-key.js';
export type { CreateApiKeyInput } from './commands/create-api-key.js';
export { listApiKeys } from './commands/list-api-keys.js';
export { isApiKeyReference, revokeApiKey } from './commands/revoke-api-key.js';
export { pushProtoOptions, pushProtoPath, loadPushService } from './grpc/push-proto.js';
export { apiKeyScopes, defaultApiKeyScopes, type ApiKeyScope } from './policies/scopes.js';
export type { PushMetricsSink } from './metrics.js';
export type { ApiKeyView } from './presenters/api-key.js';
export { MAX_PUSH_USERS } from './schemas.js';

export interface PushOptions {
  app: FastifyInstance;
  db: Database;
  hub: Publisher;
  config: Config;
  logger: Logger;
  /** Mount the HTTP routes and serve gRPC (the api role). */
  serveApi: boolean;
  metrics?: PushMetricsSink;
}

export interface Push {
  readonly verifier: ApiKeyVerifier;
  /** The bound gRPC port once `listen` ran with gRPC enabled. */
  readonly grpcPort: number | undefined;
  /** Starts the gRPC server (api role, GRPC_ENABLED). */
  listen(): Promise<void>;
  /** Stops the gRPC server, letting calls in flight finish for up to `graceMs`. */
  close(graceMs?: number): Promise<void>;
  /** Creates a key; the result carries the full key, which is never available again. */
  createApiKey(input: CreateApiKeyInput): Promise<ApiKeyView & { key: string }>;
  /** Revokes a key by id or prefix, effective on this node at once. */
  revokeApiKey(reference: string): Promise<ApiKeyView | undefined>;
}

export function createPush(options: PushOptions): Push {
  const { app, db, hub, config } = options;
  const logger = componentLogger(options.logger, 'push');
  const verifier = new ApiKeyVerifier({
    db,
    logger,
    cacheMs: config.PUSH_API_KEY_CACHE_SECONDS * 1000,
  });
  if (options.serveApi) {
    registerPublishRoutes(app, {
      hub,
      verifier,
      bodyLimit: config.BODY_LIMIT_BYTES,
      metrics: options.metrics,
    });
  }
  let grpc: GrpcServer | undefined;
  return {
    verifier,
    get grpcPort() {
      return grpc?.port;
    },
    async listen() {
      if (!options.serveApi || !config.GRPC_ENABLED || grpc) return;
      grpc = await startGrpcServer({
        host: config.HOST,
        port: config.GRPC_PORT,
        hub,
        verifier,
        logger: logger.child({ part: 'grpc' }),
        maxMessageBytes: config.BODY_LIMIT_BYTES + PUSH_USER_IDS_ALLOWANCE,
        metrics: options.metrics,
      });
      logger.info({ port: grpc.port }, 'gRPC push service listening');
    },
    async close(graceMs = 10_000) {
      const running = grpc;
      grpc = undefined;
      await running?.close(graceMs);
    },
    createApiKey: (input) => createApiKey(db, input),
    async revokeApiKey(reference) {
      const revoked = await revokeApiKey(db, reference);
      if (revoked) verifier.forget(revoked.id);
      return revoked;
    },
  };
}
