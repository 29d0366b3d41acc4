// In-memory Broker for a single process (embedded mode and tests). History per topic is a bounded
// ring; the number of topics with history is bounded too, evicting the least recently published.
import type {
  Broker,
  BrokerState,
  Delivery,
  HistoryEntry,
  HistoryOptions,
  HistoryPage,
} from './broker.js';

interface TopicHistory {
  entries: HistoryEntry[];
  latestSeq: number;
  expiresAt: number;
}

export interface MemoryBrokerOptions {
  /** Most topics whose history is kept at once. */
  maxHistoryTopics?: number;
  now?: () => number;
}

export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const maxHistoryTopics = options.maxHistoryTopics ?? 100_000;
  const now = options.now ?? Date.now;
  const subscribed = new Set<string>();
  const listeners = new Set<(delivery: Delivery) => void>();
  const stateListeners = new Set<(state: BrokerState) => void>();
  // Map iteration order is insertion order, so re-inserting on publish makes this an LRU.
  const histories = new Map<string, TopicHistory>();
  let closed = false;

  function historyOf(topic: string): TopicHistory | undefined {
    const history = histories.get(topic);
    if (history && history.expiresAt <= now()) {
      histories.delete(topic);
      return undefined;
    }
    return history;
  }

  function append(topic: string, data: string, options: HistoryOptions): number {
    const history = historyOf(topic) ?? { entries: [], latestSeq: 0, expiresAt: 0 };
    histories.delete(topic);
    histories.set(topic, history);
    if (histories.size > maxHistoryTopics) {
      const oldest = histories.keys().next().value;
      if (oldest !== undefined) histories.delete(oldest);
    }
    history.latestSeq += 1;
    history.entries.push({ seq: history.latestSeq, data });
    if (history.entries.length > options.maxLength) {
      history.entries.splice(0, history.entries.length - options.maxLength);
    }
    history.expiresAt = now() + options.ttlSeconds * 1000;
    return history.latestSeq;
  }

  function assertOpen() {
    if (closed) throw new Error('broker is closed');
  }

  return {
    kind: 'memory',
    publish(topic, data, historyOptions) {
      assertOpen();
      const seq = historyOptions ? append(topic, data, historyOptions) : undefined;
      if (subscribed.has(topic)) {
        const publishedAt = Date.now();
        const delivery: Delivery =
          seq === undefined ? { topic, data, publishedAt } : { topic, data, seq, publishedAt };
        // Asynchronous like a network broker, and in publish order.
        queueMicrotask(() => {
          if (!subscribed.has(topic)) return;
          for (const listener of listeners) listener(delivery);
        });
      }
      return Promise.resolve(seq === undefined ? {} : { seq });
    },
    publishSequenced(topic, seq, data) {
      assertOpen();
      if (subscribed.has(topic)) {
        const delivery: Delivery = { topic, data, seq, publishedAt: Date.now() };
        queueMicrotask(() => {
          if (!subscribed.has(topic)) return;
          for (const listener of listeners) listener(delivery);
        });
      }
      return Promise.resolve();
    },
    subscribe(topics) {
      assertOpen();
      for (const topic of topics) subscribed.add(topic);
      return Promise.resolve();
    },
    unsubscribe(topics) {
      for (const topic of topics) subscribed.delete(topic);
      return Promise.resolve();
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    readHistory(topic, afterSeq, limit): Promise<HistoryPage> {
      assertOpen();
      const history = historyOf(topic);
      if (!history) return Promise.resolve({ entries: [], latestSeq: 0, complete: afterSeq <= 0 });
      const first = history.entries[0];
      // A seq beyond the newest means the history was reset since the caller saw it.
      const complete = afterSeq <= history.latestSeq && (!first || afterSeq >= first.seq - 1);
      const entries = history.entries.filter((e) => e.seq > afterSeq).slice(0, limit);
      return Promise.resolve({ entries, latestSeq: history.latestSeq, complete });
    },
    latestSeq(topic) {
      if (closed) return Promise.reject(new Error('broker is closed'));
      return Promise.resolve(historyOf(topic)?.latestSeq ?? 0);
    },
    ping() {
      return closed ? Promise.reject(new Error('broker is closed')) : Promise.resolve();
    },
    close() {
      closed = true;
      subscribed.clear();
      listeners.clear();
      stateListeners.clear();
      histories.clear();
      return Promise.resolve();
    },
  };
}
