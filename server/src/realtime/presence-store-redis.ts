// Redis PresenceStore (ioredis). Per user a hash nodeId → connection count, per node a set of its
// users, and one sorted set of node leases (expiry in Redis server time, so node clocks may
// disagree). Scripts keep each change atomic, so every transition is reported exactly once.
import type { Redis } from 'ioredis';
import {
  LAST_SEEN_TTL_MS,
  type PresenceState,
  type PresenceStore,
  type PresenceTransition,
} from './presence-store.js';

export interface RedisPresenceStoreOptions {
  /** A connected client; the store does not close it. */
  redis: Redis;
  /** Prefix of every key, so several deployments can share one Redis. */
  keyPrefix?: string;
  /** Users removed per script call when a node's entries are dropped (keeps Redis responsive). */
  batchSize?: number;
}

// Every key shares the `{presence}` hash tag, so the scripts stay in one Redis Cluster slot.
// KEYS[1] is the lease set (for slot routing); ARGV[1] the key prefix.
const COMMON = `
local p = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function gone(user, out, seenTtl)
  redis.call('SET', p .. 'seen:' .. user, now, 'PX', seenTtl)
  out[#out + 1] = user
  out[#out + 1] = now
end
-- Drops up to 'budget' users of a node; returns true when the node has none left.
local function drop(node, out, seenTtl, budget)
  local nodeKey = p .. 'n:' .. node
  for _, user in ipairs(redis.call('SPOP', nodeKey, budget)) do
    local key = p .. 'u:' .. user
    if redis.call('HDEL', key, node) == 1 and redis.call('HLEN', key) == 0 then
      gone(user, out, seenTtl)
    end
  end
  if redis.call('SCARD', nodeKey) == 0 then
    redis.call('ZREM', KEYS[1], node)
    return true
  end
  return false
end
`;

// ARGV: prefix, node, lease ms, last-seen ttl ms, then user, count pairs.
// Returns { leaseLost, user, lastSeen (0 = came online), ... }.
const APPLY = `${COMMON}
local node, lease, seenTtl = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local expiry = tonumber(redis.call('ZSCORE', KEYS[1], node) or '0')
redis.call('ZADD', KEYS[1], now + lease, node)
local out = { expiry <= now and 1 or 0 }
local nodeKey = p .. 'n:' .. node
for i = 5, #ARGV, 2 do
  local user, count = ARGV[i], tonumber(ARGV[i + 1])
  local key = p .. 'u:' .. user
  if count > 0 then
    if redis.call('HLEN', key) == 0 then
      out[#out + 1] = user
      out[#out + 1] = 0
    end
    redis.call('HSET', key, node, count)
    redis.call('SADD', nodeKey, user)
  elseif redis.call('HDEL', key, node) == 1 then
    redis.call('SREM', nodeKey, user)
    if redis.call('HLEN', key) == 0 then gone(user, out, seenTtl) end
  end
end
return out
`;

// ARGV: prefix, node, lease ms. Returns 1 when the lease was still live.
const REFRESH = `${COMMON}
local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[2]) or '0')
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
return expiry > now and 1 or 0
`;

// ARGV: prefix, then users. Returns per user { connections on live nodes, last seen or 0 }.
const QUERY = `${COMMON}
local out = {}
for i = 2, #ARGV do
  local fields = redis.call('HGETALL', p .. 'u:' .. ARGV[i])
  local connections = 0
  for j = 1, #fields, 2 do
    local expiry = tonumber(redis.call('ZSCORE', KEYS[1], fields[j]) or '0')
    if expiry > now then connections = connections + tonumber(fields[j + 1]) end
  end
  out[#out + 1] = connections
  out[#out + 1] = tonumber(redis.call('GET', p .. 'seen:' .. ARGV[i]) or '0')
end
return out
`;

// ARGV: prefix, caller, lock ms, last-seen ttl ms, budget. Returns { more (1/0), user, lastSeen, ... }.
const REAP = `${COMMON}
local lockKey = p .. 'reaper'
local holder = redis.call('GET', lockKey)
if holder and holder ~= ARGV[2] then return { 0 } end
redis.call('SET', lockKey, ARGV[2], 'PX', ARGV[3])
local out = { 0 }
local budget = tonumber(ARGV[5])
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  if not drop(node, out, ARGV[4], budget) then
    out[1] = 1
    break
  end
end
return out
`;

// ARGV: prefix, node, last-seen ttl ms, budget. Returns { more (1/0), user, lastSeen, ... }.
const REMOVE_NODE = `${COMMON}
local out = { 0 }
if not drop(ARGV[2], out, ARGV[3], tonumber(ARGV[4])) then out[1] = 1 end
return out
`;

type Reply = Array<string | number>;

interface PresenceCommands {
  presenceApply(leases: string, ...args: Array<string | number>): Promise<Reply>;
  presenceRefresh(leases: string, prefix: string, node: string, leaseMs: number): Promise<number>;
  presenceQuery(leases: string, prefix: string, ...users: string[]): Promise<Reply>;
  presenceReap(
    leases: string,
    prefix: string,
    caller: string,
    lockMs: number,
    seenTtlMs: number,
    budget: number,
  ): Promise<Reply>;
  presenceRemoveNode(
    leases: string,
    prefix: string,
    node: string,
    seenTtlMs: number,
    budget: number,
  ): Promise<Reply>;
}

/** Reads { user, lastSeen, user, lastSeen, ... } from `start`; lastSeen 0 means came online. */
function transitionsFrom(reply: Reply, start: number): PresenceTransition[] {
  const out: PresenceTransition[] = [];
  for (let i = start; i + 1 < reply.length; i += 2) {
    const userId = String(reply[i]);
    const lastSeen = Number(reply[i + 1]);
    out.push(lastSeen === 0 ? { userId, online: true } : { userId, online: false, lastSeen });
  }
  return out;
}

export function createRedisPresenceStore(options: RedisPresenceStoreOptions): PresenceStore {
  const prefix = `${options.keyPrefix ?? 'sb:'}{presence}:`;
  const leases = `${prefix}leases`;
  const batchSize = options.batchSize ?? 1000;
  const redis = options.redis as Redis & PresenceCommands;
  const define = (name: keyof PresenceCommands, lua: string) => {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 1, lua });
  };
  define('presenceApply', APPLY);
  define('presenceRefresh', REFRESH);
  define('presenceQuery', QUERY);
  define('presenceReap', REAP);
  define('presenceRemoveNode', REMOVE_NODE);

  return {
    kind: 'redis',
    async apply(nodeId, counts, leaseMs) {
      const args: Array<string | number> = [prefix, nodeId, leaseMs, LAST_SEEN_TTL_MS];
      for (const [userId, count] of counts) args.push(userId, Math.max(0, count));
      const reply = await redis.presenceApply(leases, ...args);
      return { leaseLost: Number(reply[0]) === 1, transitions: transitionsFrom(reply, 1) };
    },
    async refresh(nodeId, leaseMs) {
      return (await redis.presenceRefresh(leases, prefix, nodeId, leaseMs)) === 1;
    },
    async query(userIds) {
      const result = new Map<string, PresenceState>();
      if (userIds.length === 0) return result;
      const reply = await redis.presenceQuery(leases, prefix, ...userIds);
      userIds.forEach((userId, i) => {
        const connections = Number(reply[i * 2]);
        const lastSeen = Number(reply[i * 2 + 1]);
        if (connections > 0) result.set(userId, { online: true, connections });
        else result.set(userId, lastSeen > 0 ? { online: false, lastSeen } : { online: false });
      });
      return result;
    },
    async reap(callerId, lockMs) {
      const out: PresenceTransition[] = [];
      // A node with many users is dropped over several calls so Redis never stalls on one.
      for (;;) {
        const reply = await redis.presenceReap(
          leases,
          prefix,
          callerId,
          lockMs,
          LAST_SEEN_TTL_MS,
          batchSize,
        );
        out.push(...transitionsFrom(reply, 1));
        if (Number(reply[0]) !== 1) return out;
      }
    },
    async removeNode(nodeId) {
      const out: PresenceTransition[] = [];
      for (;;) {
        const reply = await redis.presenceRemoveNode(
          leases,
          prefix,
          nodeId,
          LAST_SEEN_TTL_MS,
          batchSize,
        );
        out.push(...transitionsFrom(reply, 1));
        if (Number(reply[0]) !== 1) return out;
      }
    },
    close() {
      return Promise.resolve();
    },
  };
}
