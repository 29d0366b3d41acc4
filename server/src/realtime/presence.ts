// Presence: a user is online while they have at least one connection on any node. This node's
// per-user connection counts are batched into the PresenceStore under a node lease; the store
// reports aggregate transitions, which are published as `presence.changed` on `presence.{id}`.
// A node that dies stops renewing its lease, and any live node reaps its entries.
import type { Logger } from '../observability/index.js';
import type { ConnectionChange, Hub } from './hub.js';
import type { PresenceState, PresenceStore, PresenceTransition } from './presence-store.js';
import { presenceTopic } from './topics.js';

export interface PresenceOptions {
  hub: Hub;
  store: PresenceStore;
  /** This node's id in the store (INSTANCE_ID). */
  nodeId: string;
  logger: Logger;
  /** A node that has not renewed its lease for this long is dead; its users go offline. */
  leaseMs: number;
  /** Pending changes written at once when this many users changed; 50 by default. */
  flushSize?: number;
  /** Longest a change waits before it is written; 100 ms by default. */
  flushIntervalMs?: number;
  /** How often the lease is renewed; a third of the lease by default. */
  refreshIntervalMs?: number;
  /** How often dead nodes are looked for; a quarter of the lease (at most 5 s) by default. */
  reapIntervalMs?: number;
}

/** The event published on `presence.{userId}` when the user's aggregate state changes. */
export interface PresenceChangedEvent {
  [key: string]: unknown;
  type: 'presence.changed';
  userId: string;
  online: boolean;
  lastSeen?: number;
}

export class Presence {
  private readonly pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unobserve: (() => void) | undefined;
  private stopped = false;
  private started = false;
  /** The last write failed; only the retry timer writes until one succeeds. */
  private failing = false;
  private readonly flushSize: number;
  private readonly flushIntervalMs: number;
  private readonly log: Logger;
  /** Completed flushes (for metrics and tests that check batching). */
  flushes = 0;

  constructor(private readonly options: PresenceOptions) {
    this.flushSize = options.flushSize ?? 50;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.log = options.logger;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Starts observing the hub and renewing the lease; takes in users already connected. */
  async start(): Promise<void> {
    const { hub, leaseMs } = this.options;
    this.started = false;
    this.unobserve = hub.observeConnections((change) => this.onChange(change));
    for (const userId of hub.presentUsers()) this.pending.add(userId);
    // Taking the lease first means the first write does not look like a lost lease.
    await this.refresh();
    this.started = true;
    await this.flush();
    const every = (ms: number, run: () => Promise<void>) => {
      const timer = setInterval(() => void run(), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.refreshIntervalMs ?? Math.max(100, Math.floor(leaseMs / 3)), () =>
      this.refresh(),
    );
    every(
      this.options.reapIntervalMs ?? Math.max(100, Math.min(5000, Math.floor(leaseMs / 4))),
      () => this.reap(),
    );
  }

  /** Aggregate presence of each user across every live node. */
  async query(userIds: readonly string[]): Promise<Map<string, PresenceState>> {
    return this.options.store.query([...new Set(userIds)]);
  }

  /** The users among `userIds` that are online (e.g. chat's member list). */
  async onlineUsers(userIds: readonly string[]): Promise<string[]> {
    const states = await this.query(userIds);
    return [...states].filter(([, state]) => state.online).map(([id]) => id);
  }

  async isOnline(userId: string): Promise<boolean> {
    return (await this.query([userId])).get(userId)?.online ?? false;
  }

  /** Writes pending changes now (also what the batch timer does). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0 || this.stopped) return;
    this.flushing = this.writePending().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  /**
   * Stops renewing and removes this node's entries, publishing who went offline (graceful
   * shutdown). Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unobserve?.();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    clearTimeout(this.flushTimer);
    while (this.flushing) await this.flushing;
    this.pending.clear();
    try {
      await this.publish(await this.options.store.removeNode(this.options.nodeId));
    } catch (err) {
      this.log.warn({ err }, 'could not remove presence entries; they expire with the lease');
    }
  }

  private onChange(change: ConnectionChange): void {
    if (this.stopped || change.connection.sink.invisible) return;
    this.pending.add(change.connection.userId);
    // While the store is failing, the retry timer writes; churn must not hammer it meanwhile.
    if (this.pending.size >= this.flushSize && !this.failing) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      void this.flush();
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, this.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  private async writePending(): Promise<void> {
    const { hub, store, nodeId, leaseMs } = this.options;
    const users = [...this.pending];
    this.pending.clear();
    // Counts are read now, not when the changes happened: the latest state is what matters.
    const counts = new Map(users.map((id) => [id, hub.userConnectionCount(id)]));
    try {
      const result = await store.apply(nodeId, counts, leaseMs);
      this.failing = false;
      this.flushes += 1;
      await this.publish(result.transitions);
      if (result.leaseLost) this.resyncSoon();
    } catch (err) {
      if (!this.failing)
        this.log.warn({ err, users: users.length }, 'presence write failed; retrying');
      this.failing = true;
      for (const id of users) this.pending.add(id);
      this.retrySoon();
    }
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const live = await this.options.store.refresh(this.options.nodeId, this.options.leaseMs);
      if (!live && this.started) {
        this.log.warn('presence lease had run out; writing every local user again');
        this.resyncSoon();
      }
    } catch (err) {
      this.log.warn({ err }, 'presence lease refresh failed');
    }
  }

  private async reap(): Promise<void> {
    if (this.stopped) return;
    try {
      const lockMs = this.options.reapIntervalMs ?? Math.min(5000, this.options.leaseMs / 4);
      // The lock outlives one interval a little, so the holder keeps it while it is alive.
      const transitions = await this.options.store.reap(this.options.nodeId, lockMs * 2);
      if (transitions.length > 0) {
        this.log.info({ offline: transitions.length }, 'reaped the users of dead nodes');
      }
      await this.publish(transitions);
    } catch (err) {
      this.log.warn({ err }, 'presence reap failed');
    }
  }

  /** Entries this node wrote may be gone (reaped while it was cut off): write them all again. */
  private resyncSoon(): void {
    for (const userId of this.options.hub.presentUsers()) this.pending.add(userId);
    this.retrySoon();
  }

  private retrySoon(): void {
    if (this.stopped || this.flushTimer) return;
    this.flushTimer = setTimeout(
      () => {
        this.flushTimer = undefined;
        void this.flush();
      },
      Math.max(this.flushIntervalMs, 1000),
    );
    this.flushTimer.unref();
  }

  private async publish(transitions: readonly PresenceTransition[]): Promise<void> {
    await Promise.all(
      transitions.map(async ({ userId, online, lastSeen }) => {
        const event: PresenceChangedEvent = { type: 'presence.changed', userId, online };
        if (lastSeen !== undefined) event.lastSeen = lastSeen;
        try {
          await this.options.hub.publish(presenceTopic(userId), event);
        } catch (err) {
          // The store is right regardless; watchers that miss this can query.
          this.log.warn({ err, userId }, 'could not publish a presence change');
        }
      }),
    );
  }
}
