// In-memory PresenceStore for a single process (embedded mode and tests). Several Presence
// instances may share one to stand in for several nodes.
import {
  LAST_SEEN_TTL_MS,
  type PresenceState,
  type PresenceStore,
  type PresenceTransition,
} from './presence-store.js';

export interface MemoryPresenceStoreOptions {
  now?: () => number;
}

export function createMemoryPresenceStore(options: MemoryPresenceStoreOptions = {}): PresenceStore {
  const now = options.now ?? Date.now;
  /** userId → nodeId → connection count (> 0). */
  const byUser = new Map<string, Map<string, number>>();
  /** nodeId → users with an entry on it. */
  const byNode = new Map<string, Set<string>>();
  const leases = new Map<string, number>();
  const lastSeen = new Map<string, number>();
  let lock: { holder: string; until: number } | undefined;

  function remove(nodeId: string, userId: string, out: PresenceTransition[]): void {
    const nodes = byUser.get(userId);
    if (!nodes?.delete(nodeId)) return;
    byNode.get(nodeId)?.delete(userId);
    if (nodes.size === 0) {
      byUser.delete(userId);
      const at = now();
      lastSeen.set(userId, at);
      out.push({ userId, online: false, lastSeen: at });
    }
  }

  function dropNode(nodeId: string): PresenceTransition[] {
    const out: PresenceTransition[] = [];
    for (const userId of [...(byNode.get(nodeId) ?? [])]) remove(nodeId, userId, out);
    byNode.delete(nodeId);
    leases.delete(nodeId);
    return out;
  }

  function live(nodeId: string): boolean {
    return (leases.get(nodeId) ?? 0) > now();
  }

  return {
    kind: 'memory',
    apply(nodeId, counts, leaseMs) {
      const leaseLost = !live(nodeId);
      leases.set(nodeId, now() + leaseMs);
      let mine = byNode.get(nodeId);
      if (!mine) byNode.set(nodeId, (mine = new Set()));
      const out: PresenceTransition[] = [];
      for (const [userId, count] of counts) {
        if (count <= 0) {
          remove(nodeId, userId, out);
          continue;
        }
        let nodes = byUser.get(userId);
        if (!nodes) byUser.set(userId, (nodes = new Map<string, number>()));
        if (nodes.size === 0) out.push({ userId, online: true });
        nodes.set(nodeId, count);
        mine.add(userId);
      }
      return Promise.resolve({ transitions: out, leaseLost });
    },
    refresh(nodeId, leaseMs) {
      const alive = live(nodeId);
      leases.set(nodeId, now() + leaseMs);
      return Promise.resolve(alive);
    },
    query(userIds) {
      const result = new Map<string, PresenceState>();
      for (const userId of userIds) {
        let connections = 0;
        for (const [nodeId, count] of byUser.get(userId) ?? []) {
          if (live(nodeId)) connections += count;
        }
        const seen = lastSeen.get(userId);
        if (connections > 0) result.set(userId, { online: true, connections });
        else if (seen !== undefined && seen > now() - LAST_SEEN_TTL_MS) {
          result.set(userId, { online: false, lastSeen: seen });
        } else result.set(userId, { online: false });
      }
      return Promise.resolve(result);
    },
    reap(callerId, lockMs) {
      const at = now();
      if (lock && lock.until > at && lock.holder !== callerId) return Promise.resolve([]);
      lock = { holder: callerId, until: at + lockMs };
      const out: PresenceTransition[] = [];
      for (const [nodeId, until] of [...leases]) {
        if (until <= at) out.push(...dropNode(nodeId));
      }
      return Promise.resolve(out);
    },
    removeNode(nodeId) {
      return Promise.resolve(dropNode(nodeId));
    },
    close() {
      return Promise.resolve();
    },
  };
}
