// The PresenceStore port: per-node connection counts per user under node leases, aggregated into
// "online on any node". Implementations: memory (one process) and Redis (many nodes).

/** A user's aggregate state changed: first connection anywhere, or last one gone. */
export interface PresenceTransition {
  readonly userId: string;
  readonly online: boolean;
  /** When the user was last seen (ms since the epoch), for users who went offline. */
  readonly lastSeen?: number;
}

export interface PresenceState {
  readonly online: boolean;
  /** When the user went offline (ms since the epoch), if known; absent while online. */
  readonly lastSeen?: number;
  /** Connections across every live node; absent while offline. */
  readonly connections?: number;
}

export interface ApplyResult {
  readonly transitions: PresenceTransition[];
  /**
   * The node's lease had run out before this call (or never existed), so entries it wrote earlier
   * may have been reaped: the node must apply every local user again.
   */
  readonly leaseLost: boolean;
}

export interface PresenceStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Records this node's current connection count for each user (0: none left) and renews the
   * node's lease. Reports the users whose aggregate state changed, each once cluster-wide.
   */
  apply(nodeId: string, counts: ReadonlyMap<string, number>, leaseMs: number): Promise<ApplyResult>;
  /**
   * Renews the node's lease. False when the lease had already run out (the node's entries may
   * have been reaped): the node must apply every local user again.
   */
  refresh(nodeId: string, leaseMs: number): Promise<boolean>;
  /** Aggregate state of each user, counting only nodes whose lease is live. */
  query(userIds: readonly string[]): Promise<Map<string, PresenceState>>;
  /**
   * Removes the entries of nodes whose lease ran out. Only one caller per `lockMs` does the work
   * (the others get an empty list), so transitions are reported once.
   */
  reap(callerId: string, lockMs: number): Promise<PresenceTransition[]>;
  /** Removes every entry of the node (graceful shutdown); returns who went offline. */
  removeNode(nodeId: string): Promise<PresenceTransition[]>;
  close(): Promise<void>;
}

/** How long a user's last-seen time is kept after they go offline. */
export const LAST_SEEN_TTL_MS = 30 * 24 * 3600 * 1000;
