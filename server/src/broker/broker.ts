// The Broker port: cross-node pub/sub plus bounded per-topic history for ephemeral topics.
// Implementations: memory (one process) and Redis (many nodes); one contract suite tests both.

/** One message as a subscribed node receives it. */
export interface Delivery {
  readonly topic: string;
  /** The payload exactly as published; serialized once by the publisher. */
  readonly data: string;
  /** Position in the topic's history, present when published with history. */
  readonly seq?: number;
  /** When it was published (ms since the epoch, the publisher's clock), for latency metrics. */
  readonly publishedAt?: number;
}

export interface HistoryOptions {
  /** How many entries the topic keeps; older ones are trimmed. */
  readonly maxLength: number;
  /** Seconds the topic's history lives after its last publish. */
  readonly ttlSeconds: number;
}

export interface HistoryEntry {
  readonly seq: number;
  readonly data: string;
}

export interface HistoryPage {
  /** Entries with seq greater than the requested one, oldest first, at most `limit`. */
  readonly entries: HistoryEntry[];
  /** The newest seq the topic has ever had (0 when none). */
  readonly latestSeq: number;
  /**
   * False when entries after the requested seq were already trimmed, so the caller cannot fill
   * the gap from history and must resynchronise.
   */
  readonly complete: boolean;
}

export type BrokerState = 'up' | 'down';

export interface Broker {
  readonly kind: 'memory' | 'redis';
  /** Sends `data` to every node subscribed to `topic`. With `history`, assigns and returns a seq. */
  publish(topic: string, data: string, history?: HistoryOptions): Promise<{ seq?: number }>;
  /**
   * Sends `data` with a seq assigned elsewhere (a durable topic, whose history is the database),
   * keeping no history here.
   */
  publishSequenced(topic: string, seq: number, data: string): Promise<void>;
  /** Starts receiving the topics on this node. Idempotent per topic. */
  subscribe(topics: readonly string[]): Promise<void>;
  /** Stops receiving the topics on this node. Idempotent per topic. */
  unsubscribe(topics: readonly string[]): Promise<void>;
  /** Registers the node's one message listener; returns a function that removes it. */
  onMessage(listener: (delivery: Delivery) => void): () => void;
  /** Observes connectivity: after `up` following `down`, messages in between may be missing. */
  onStateChange(listener: (state: BrokerState) => void): () => void;
  /** Reads history after `afterSeq` (exclusive). */
  readHistory(topic: string, afterSeq: number, limit: number): Promise<HistoryPage>;
  /**
   * The newest seq assigned on the topic (0 before any): where a reader that wants only what
   * comes next starts. The same as `readHistory(...).latestSeq`, without reading entries.
   */
  latestSeq(topic: string): Promise<number>;
  /** Resolves when the broker answers; throws when it cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the broker cannot be reached. */
export class BrokerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerUnavailableError';
  }
}
