// Starts a real in-process server on the current test target, with helpers to mint tokens.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { loadConfig, type Config } from '../config/index.js';
import { startServer, type RunningServer } from '../main.js';
import { makeTempDir, makeTestStore, realRedisUrl, testLogger } from './services.js';

export interface TestServer {
  server: RunningServer;
  config: Config;
  url: string;
  wsUrl: string;
  /** An HS256 access token for the user, signed with the server's JWT_SECRET. */
  token(userId: string, claims?: Record<string, unknown>, expiresIn?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestServer(
  options: { env?: Record<string, string>; withRedis?: boolean } = {},
): Promise<TestServer> {
  const dir = makeTempDir('sb-server-');
  const testStore = await makeTestStore();
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    // Never the fixed default: test servers run side by side.
    GRPC_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: dir.path,
    ...(testStore.databaseUrl ? { DATABASE_URL: testStore.databaseUrl } : {}),
    ...(options.withRedis !== false && realRedisUrl ? { REDIS_URL: realRedisUrl } : {}),
    // Counters of its own: test servers and earlier runs share one Redis.
    RATE_LIMIT_KEY_PREFIX: `sbtest:${randomUUID()}:rl:`,
    ...options.env,
  };
  const { config } = loadConfig({ env, cwd: dir.path, secrets: 'persist' });
  const server = await startServer({ config, logger: testLogger, store: testStore.store });
  const secret = new TextEncoder().encode(config.JWT_SECRET);
  return {
    server,
    config,
    url: server.url,
    wsUrl: server.url.replace(/^http/, 'ws'),
    token: (userId, claims = {}, expiresIn = '1h') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(secret),
    async stop() {
      await server.stop();
      await testStore.cleanup();
      dir.remove();
    },
  };
}
