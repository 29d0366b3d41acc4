// Redis NodeRegistry: one key per node holding its JSON entry with the lease as the key's TTL
// (Redis expires it, so node clocks do not matter), plus a set indexing the ids.
import type { Redis } from 'ioredis';
import type { NodeInfo, NodeRegistry } from './nodes.js';

export interface RedisNodeRegistryOptions {
  /** A connected client; the registry does not close it. */
  redis: Redis;
  /** Prefix of every key, so several deployments can share one Redis. */
  keyPrefix?: string;
}

// KEYS: index. ARGV: key prefix, ids whose entry looked expired.
const PRUNE = `
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. 'n:' .. ARGV[i]) == 0 then redis.call('SREM', KEYS[1], ARGV[i]) end
end
return 0
`;

function parse(text: string | null): NodeInfo | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as NodeInfo;
  } catch {
    return undefined;
  }
}

export function createRedisNodeRegistry(options: RedisNodeRegistryOptions): NodeRegistry {
  const { redis } = options;
  const prefix = `${options.keyPrefix ?? 'sb:'}{nodes}:`;
  const index = `${prefix}index`;
  const keyOf = (id: string) => `${prefix}n:${id}`;
  return {
    kind: 'redis',
    async announce(info, leaseMs) {
      await redis
        .multi()
        .set(keyOf(info.id), JSON.stringify(info), 'PX', leaseMs)
        .sadd(index, info.id)
        .exec();
    },
    async list() {
      const ids = await redis.smembers(index);
      if (ids.length === 0) return [];
      const values = await redis.mget(ids.map(keyOf));
      const expired = ids.filter((_, i) => values[i] === null);
      // Ids whose entry expired are pruned, unless the node renewed it meanwhile.
      if (expired.length > 0) await redis.eval(PRUNE, 1, index, prefix, ...expired);
      return values
        .map(parse)
        .filter((info): info is NodeInfo => info !== undefined)
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    async remove(nodeId) {
      await redis.multi().del(keyOf(nodeId)).srem(index, nodeId).exec();
    },
  };
}
