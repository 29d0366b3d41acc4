// What the composition root hands each application module (chat, the relay), and the context
// the module's commands and routes share, built from it once.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/index.js';
import { componentLogger, type Logger } from './observability/index.js';
import type { Pipeline } from './pipeline/index.js';
import type { RateLimiter } from './ratelimit/index.js';
import type { Realtime } from './realtime/index.js';
import type { Database } from './store/index.js';

export interface ApplicationModuleOptions {
  app: FastifyInstance;
  db: Database;
  pipeline: Pipeline;
  realtime: Realtime;
  config: Config;
  logger: Logger;
  rateLimiter: RateLimiter;
  /** Mount the module's routes (the api role). */
  serveApi: boolean;
  /** Run the module's clean-up jobs here (the worker role). */
  runJobs?: boolean;
  now?: () => number;
}

export interface ApplicationContext {
  readonly db: Database;
  readonly pipeline: Pipeline;
  readonly realtime: Realtime;
  readonly config: Config;
  readonly logger: Logger;
  readonly rateLimiter: RateLimiter;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now: () => number;
}

/** The context of the module logging as `component`. */
export function applicationContext(
  options: ApplicationModuleOptions,
  component: string,
): ApplicationContext {
  return {
    db: options.db,
    pipeline: options.pipeline,
    realtime: options.realtime,
    config: options.config,
    logger: componentLogger(options.logger, component),
    rateLimiter: options.rateLimiter,
    now: options.now ?? Date.now,
  };
}
