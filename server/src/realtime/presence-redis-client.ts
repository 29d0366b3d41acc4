// A Redis command connection for state that is not pub/sub (presence, the node registry, rate
// limits): it fails fast while Redis is away (callers retry or fail open) instead of queueing.
import { Redis } from 'ioredis';
import type { Logger } from '../observability/index.js';

const STARTUP_TIMEOUT_MS = 10_000;
const ERROR_LOG_INTERVAL_MS = 10_000;

export async function connectPresenceRedis(
  url: string,
  logger: Logger,
  purpose = 'presence',
): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    commandTimeout: 5000,
    connectionName: `switchboard:${purpose}`,
    retryStrategy: (attempt) => Math.min(2000, 50 * 2 ** attempt),
  });
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return;
    lastLogged = Date.now();
    logger.warn({ err: err.message }, `${purpose} redis connection error`);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`could not reach Redis for ${purpose} within 10 s`)),
          STARTUP_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return redis;
}
