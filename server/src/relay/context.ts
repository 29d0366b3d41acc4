// What every relay command and route needs, built once by `createRelay`.
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { Pipeline } from '../pipeline/index.js';
import type { RateLimiter } from '../ratelimit/index.js';
import type { Realtime } from '../realtime/index.js';
import type { Database } from '../store/index.js';

export interface RelayContext {
  readonly db: Database;
  readonly pipeline: Pipeline;
  readonly realtime: Realtime;
  readonly config: Config;
  readonly logger: Logger;
  readonly rateLimiter: RateLimiter;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now: () => number;
}
