// Redis Broker (ioredis): pub/sub across nodes plus bounded per-topic history in Redis Streams.
import type { Logger } from '../observability/index.js';
import type { Broker } from './broker.js';

export interface RedisBrokerOptions {
  url: string;
  logger: Logger;
  mode: 'perconv' | 'global';
}

export function createRedisBroker(_options: RedisBrokerOptions): Promise<Broker> {
  return Promise.reject(new Error('Redis broker: under construction'));
}
