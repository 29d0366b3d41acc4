// The durable pipeline: application commands append events to the outbox inside their own
// transaction; right after the commit this process publishes them (the fast path) and relay
// workers publish whatever that did not finish. PostgreSQL is the source of truth throughout.
import type { SQL } from 'drizzle-orm';
import type { Broker } from '../broker/index.js';
import type { Config } from '../config/index.js';
import type { Hub } from '../realtime/index.js';
import type { Store, Transaction } from '../store/index.js';
import { componentLogger, type Logger, type Metrics } from '../observability/index.js';
import { ConsumerRegistry } from './consumers.js';
import { DurableTopics } from './durable-topics.js';
import {
  recordWithPayload,
  type OutboxEventInput,
  type OutboxRecord,
  type OutboxRow,
} from './events.js';
import { FastPath } from './fast-path.js';
import { OutboxMetrics } from './metrics.js';
import {
  appendCtes,
  insertEvents,
  type AppendItem,
  listDeadLetters,
  readStats,
  redriveDeadLetters,
  type DeadLetter,
  type OutboxStats,
  type TopicExpression,
} from './outbox-queries.js';
import { realtimeConsumer } from './realtime-consumer.js';
import { RelayWorker } from './relay-worker.js';
import { scheduleRetention } from './retention.js';
import type { RetryPolicy } from './retry-policy.js';
import { OutboxWake } from './wake.js';

export { ConsumerRegistry, isTransient, RetryLaterError } from './consumers.js';
export type { OutboxConsumer } from './consumers.js';
export { DurableTopics, encodeOutboxEvent } from './durable-topics.js';
export type { OutboxEventInput, OutboxRecord } from './events.js';
export { REALTIME_CONSUMER } from './realtime-consumer.js';
export type { DeadLetter, OutboxStats, TopicExpression } from './outbox-queries.js';
export {
  deadLettersUnder,
  listDeadLetters,
  readStats,
  redriveDeadLetters,
} from './outbox-queries.js';
export { registerOutboxAdminRoutes } from './routes/outbox-admin-routes.js';
export {
  DEAD_LETTER_PAGE_DEFAULT,
  DEAD_LETTER_PAGE_MAX,
  readDeadLetterPage,
} from './routes/outbox-admin-schemas.js';

/** Appends events inside the transaction it was handed to. */
export interface OutboxWriter {
  append(events: readonly OutboxEventInput[]): Promise<OutboxRecord[]>;
}

/** Most `publish` calls committed in one statement. */
const MAX_GROUP_COMMIT = 256;
/**
 * Group commits in flight at once. One: an idle pipeline commits a call at once, and under load
 * every call that arrives during a commit joins the next one. Measured against four in flight,
 * one halves PostgreSQL's CPU per event at 1,000 events/s and lowers the tail (docs/benchmarks.md).
 */
const MAX_CONCURRENT_COMMITS = 1;

export interface PipelineOptions {
  store: Store;
  hub: Hub;
  config: Config;
  logger: Logger;
  metrics?: Metrics;
  /** Run relay workers and the retention job here (the worker role). */
  runWorkers: boolean;
  /** The broker's connectivity: workers backing off from an outage resume as soon as it is up. */
  broker?: Pick<Broker, 'onStateChange'>;
}

export class Pipeline {
  readonly consumers = new ConsumerRegistry();
  readonly durableTopics: DurableTopics;
  private readonly fastPath: FastPath;
  private readonly wake = new OutboxWake();
  private readonly workers: RelayWorker[] = [];
  private stopRetention: (() => Promise<void>) | undefined;
  private stopWatchingBroker: (() => void) | undefined;
  private readonly log: Logger;
  private readonly outboxMetrics?: OutboxMetrics;
  private readonly workerDelayMs: number;
  private readonly publishQueue: Array<{
    items: AppendItem[];
    resolve: (records: OutboxRecord[]) => void;
    reject: (err: Error) => void;
  }> = [];
  private committers = 0;

  constructor(private readonly options: PipelineOptions) {
    const { store, hub, config } = options;
    this.log = componentLogger(options.logger, 'pipeline');
    this.durableTopics = new DurableTopics(store.db);
    for (const prefix of config.DURABLE_TOPIC_PREFIXES) this.durableTopics.addPrefix(prefix);
    hub.addHistorySource(this.durableTopics);
    this.consumers.register(realtimeConsumer(hub));
    if (options.metrics) {
      this.outboxMetrics = new OutboxMetrics(options.metrics.registry, () => this.stats());
    }
    const policy: RetryPolicy = {
      maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
      baseDelayMs: config.OUTBOX_RETRY_BASE_MS,
      maxDelayMs: Math.max(config.OUTBOX_RETRY_BASE_MS, config.OUTBOX_RETRY_MAX_MS),
    };
    this.workerDelayMs = config.OUTBOX_FAST_PATH ? config.OUTBOX_FAST_PATH_GRACE_MS : 0;
    this.fastPath = new FastPath({
      db: store.db,
      consumers: this.consumers,
      policy,
      consumerTimeoutMs: config.OUTBOX_CONSUMER_TIMEOUT_MS,
      logger: this.log.child({ part: 'fast-path' }),
      wakeLocal: () => this.wake.poke(),
      flushDelayMs: markDelayWithin(this.workerDelayMs),
      ...(this.outboxMetrics ? { metrics: this.outboxMetrics } : {}),
    });
    if (options.runWorkers) {
      for (let i = 0; i < config.OUTBOX_WORKERS; i++) {
        this.workers.push(
          new RelayWorker({
            db: store.db,
            consumers: this.consumers,
            policy,
            consumerTimeoutMs: config.OUTBOX_CONSUMER_TIMEOUT_MS,
            batchSize: config.OUTBOX_BATCH_SIZE,
            pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
            wake: this.wake,
            logger: this.log.child({ part: 'relay', worker: i }),
            ...(this.outboxMetrics ? { metrics: this.outboxMetrics } : {}),
          }),
        );
      }
    }
  }

  /** Starts the relay workers, their wake-up listener and the retention job (worker role). */
  async start(): Promise<void> {
    if (!this.options.runWorkers) return;
    const { config, store } = this.options;
    const listenUrl = config.DATABASE_LISTEN_URL ?? config.DATABASE_URL;
    if (store.kind === 'postgres' && listenUrl) {
      await this.wake.listen(listenUrl, this.log.child({ part: 'listen' }));
    }
    for (const worker of this.workers) worker.start();
    this.stopWatchingBroker = this.options.broker?.onStateChange((state) => {
      if (state !== 'up') return;
      for (const worker of this.workers) worker.dependencyRecovered();
    });
    this.stopRetention = scheduleRetention({
      db: store.db,
      retentionSeconds: config.OUTBOX_RETENTION_SECONDS,
      intervalMs: config.OUTBOX_CLEANUP_INTERVAL_SECONDS * 1000,
      logger: this.log.child({ part: 'retention' }),
    });
    this.log.info({ workers: this.workers.length }, 'outbox relay workers started');
  }

  /**
   * Runs `work` in one transaction; events it appends commit or roll back with the domain rows,
   * and are published as soon as the commit returns.
   */
  async transaction<T>(work: (tx: Transaction, outbox: OutboxWriter) => Promise<T>): Promise<T> {
    const appended: OutboxRecord[] = [];
    const result = await this.options.store.db.transaction((tx) =>
      work(tx, {
        append: async (events) => {
          const records = await this.append(tx, events);
          appended.push(...records);
          return records;
        },
      }),
    );
    void this.afterCommit(appended);
    return result;
  }

  /**
   * Commits events on their own and publishes them. Calls that arrive while a commit is in
   * flight are committed together in the next one (group commit): one statement, one
   * commit and one seq bump per topic for the lot, so throughput grows with load instead of
   * queueing.
   */
  async publish(events: readonly OutboxEventInput[]): Promise<OutboxRecord[]> {
    const items = this.prepare(events);
    return new Promise((resolve, reject) => {
      this.publishQueue.push({ items, resolve, reject });
      if (this.committers < MAX_CONCURRENT_COMMITS) void this.commitQueued();
    });
  }

  /**
   * The writer for callers that run their own transaction: pass its records to `afterCommit`
   * once the transaction committed (not before, and never after a rollback).
   */
  async append(
    tx: Pick<Transaction, 'execute'>,
    events: readonly OutboxEventInput[],
  ): Promise<OutboxRecord[]> {
    return insertEvents(tx, this.prepare(events), this.workerDelayMs);
  }

  /**
   * For a writer that appends one event in the same statement as its own rows: one round trip
   * instead of a transaction of several. Returns the CTEs `appended_seq` (the topic's next seq,
   * taken after the rows of the caller's CTE `after`, which locks what orders the writers) and
   * `appended` (the event, with the payload `payload` builds from the seq column). Give the
   * statement's `appended` row to `recordOf`, and the record to `afterCommit` once committed.
   */
  appendingCtes(
    event: { type: string; topic: string | TopicExpression },
    payload: (seq: SQL) => SQL,
    after: string,
  ): SQL {
    const { topic } = event;
    const [item] = this.prepare([
      { type: event.type, topic: typeof topic === 'string' ? topic : topic.prefix, payload: {} },
    ]);
    return appendCtes({ ...item!, topic }, payload, this.workerDelayMs, after);
  }

  /**
   * The record of an `appended` row (see `appendingCtes`) with the payload the statement wrote,
   * and its JSON text when the caller has exactly that (consumers then encode from it).
   */
  recordOf(row: unknown, payload: Record<string, unknown>, payloadJson?: string): OutboxRecord {
    return recordWithPayload(row as Omit<OutboxRow, 'payload'>, payload, payloadJson);
  }

  private prepare(events: readonly OutboxEventInput[]): AppendItem[] {
    return events.map((event) => {
      if (!this.durableTopics.owns(event.topic)) {
        throw new Error(`${event.topic} is not a durable topic; register its prefix first`);
      }
      return {
        type: event.type,
        topic: event.topic,
        payload: event.payload,
        pending: this.consumers.namesFor(event.type),
      };
    });
  }

  private async commitQueued(): Promise<void> {
    this.committers += 1;
    try {
      while (this.publishQueue.length > 0) {
        const batch = this.publishQueue.splice(0, MAX_GROUP_COMMIT);
        try {
          const records = await insertEvents(
            this.options.store.db,
            batch.flatMap((entry) => entry.items),
            this.workerDelayMs,
          );
          let next = 0;
          for (const entry of batch) {
            entry.resolve(records.slice(next, (next += entry.items.length)));
          }
          void this.afterCommit(records);
        } catch (err) {
          for (const entry of batch) entry.reject(err as Error);
        }
      }
    } finally {
      this.committers -= 1;
    }
  }

  /** Publishes committed events now (the fast path), unless it is turned off. */
  afterCommit(records: readonly OutboxRecord[]): Promise<void> {
    if (records.length === 0 || !this.options.config.OUTBOX_FAST_PATH) return Promise.resolve();
    return this.fastPath.dispatch(records, Date.now());
  }

  /**
   * The hub's publish calls, with topics under a durable prefix sent through the outbox: they
   * answer after the commit, with the seq the event got.
   */
  publisherOver(
    hub: Pick<Hub, 'publish' | 'push' | 'broadcast'>,
  ): Pick<Hub, 'publish' | 'push' | 'broadcast'> {
    return {
      publish: async (topic, event) => {
        if (!this.durableTopics.owns(topic)) return hub.publish(topic, event);
        const { type, ...payload } = event;
        const [record] = await this.publish([{ type, topic, payload }]);
        return { seq: record!.seq };
      },
      push: (userIds, event) => hub.push(userIds, event),
      broadcast: (event) => hub.broadcast(event),
    };
  }

  stats(): Promise<OutboxStats> {
    return readStats(this.options.store.db);
  }

  deadLetters(afterId: number, limit: number): Promise<DeadLetter[]> {
    return listDeadLetters(this.options.store.db, afterId, limit);
  }

  /** Makes dead letters due again (all when `ids` is undefined); returns how many. */
  async redrive(ids?: readonly number[]): Promise<number> {
    const count = await redriveDeadLetters(this.options.store.db, ids);
    if (count > 0) this.wake.poke();
    return count;
  }

  /** Stops workers after their batch in hand and writes the fast path's pending marks. */
  async close(): Promise<void> {
    this.stopWatchingBroker?.();
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.stopRetention?.();
    await this.fastPath.close();
    await this.wake.close();
  }
}

/**
 * How long a processed mark waits for company: an eighth of the workers' grace, at most 250 ms.
 * At the default 2 s grace that is at most four statements a second per node, where a busy node
 * waiting 20 ms wrote up to fifty.
 */
function markDelayWithin(graceMs: number): number {
  return Math.min(250, Math.max(5, Math.floor(graceMs / 8)));
}
