// The node registry: each node announces itself under a lease so operators can list the live
// ones (`GET /api/v1/nodes`). A node that stops renewing disappears when its lease runs out.
import type { Logger } from '../observability/index.js';

export interface NodeInfo {
  /** INSTANCE_ID. */
  readonly id: string;
  /** Where the node's HTTP server answers. */
  readonly url: string;
  readonly roles: readonly string[];
  /** Client connections (WebSocket + SSE) open on the node. */
  readonly connections: number;
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601: when the node last renewed its entry. */
  readonly updatedAt: string;
  readonly version: string;
}

export interface NodeRegistry {
  readonly kind: 'memory' | 'redis';
  /** Creates or renews the node's entry for `leaseMs`. */
  announce(info: NodeInfo, leaseMs: number): Promise<void>;
  /** Live nodes, ordered by id. */
  list(): Promise<NodeInfo[]>;
  remove(nodeId: string): Promise<void>;
}

export function createMemoryNodeRegistry(options: { now?: () => number } = {}): NodeRegistry {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { info: NodeInfo; until: number }>();
  return {
    kind: 'memory',
    announce(info, leaseMs) {
      entries.set(info.id, { info, until: now() + leaseMs });
      return Promise.resolve();
    },
    list() {
      const at = now();
      for (const [id, entry] of entries) if (entry.until <= at) entries.delete(id);
      return Promise.resolve(
        [...entries.values()].map((e) => e.info).sort((a, b) => a.id.localeCompare(b.id)),
      );
    },
    remove(nodeId) {
      entries.delete(nodeId);
      return Promise.resolve();
    },
  };
}

export interface NodeAnnouncerOptions {
  registry: NodeRegistry;
  /** The node's entry as of now (connection count changes between renewals). */
  describe: () => Omit<NodeInfo, 'updatedAt'>;
  leaseMs: number;
  /** How often the entry is renewed; a third of the lease by default. */
  intervalMs?: number;
  logger: Logger;
}

/** Keeps this node's registry entry alive until stopped. */
export class NodeAnnouncer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private nodeId: string | undefined;

  constructor(private readonly options: NodeAnnouncerOptions) {}

  async start(): Promise<void> {
    await this.announce();
    this.timer = setInterval(
      () => void this.announce(),
      this.options.intervalMs ?? Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
    this.timer.unref();
  }

  /** Stops renewing and removes the entry at once (graceful shutdown). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (this.nodeId === undefined) return;
    try {
      await this.options.registry.remove(this.nodeId);
    } catch (err) {
      this.options.logger.warn(
        { err },
        'could not remove the node entry; it expires with the lease',
      );
    }
  }

  private async announce(): Promise<void> {
    if (this.stopped) return;
    const info = { ...this.options.describe(), updatedAt: new Date().toISOString() };
    this.nodeId = info.id;
    try {
      await this.options.registry.announce(info, this.options.leaseMs);
    } catch (err) {
      this.options.logger.warn({ err }, 'could not renew the node entry');
    }
  }
}
