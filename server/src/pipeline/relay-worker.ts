// A relay worker: claims due outbox events with FOR UPDATE SKIP LOCKED (so any number of workers
// on any nodes share the work without waiting on each other), runs their pending consumers,
// and marks them processed or schedules their retry, all in the claiming transaction. A worker
// killed mid-batch leaves no trace: its transaction rolls back and the rows are due again.
import type { Database } from '../store/index.js';
import type { Logger } from '../observability/index.js';
import { runConsumers, type ConsumerRegistry } from './consumers.js';
import type { OutboxRecord } from './events.js';
import type { OutboxMetrics } from './metrics.js';
import { claimDue, markProcessed, recordFailures, type FailureUpdate } from './outbox-queries.js';
import { failureUpdate, type RetryPolicy } from './retry-policy.js';
import type { OutboxWake } from './wake.js';

export interface RelayWorkerOptions {
  db: Database;
  consumers: ConsumerRegistry;
  policy: RetryPolicy;
  consumerTimeoutMs: number;
  batchSize: number;
  /** Longest wait for work when nothing wakes the worker. */
  pollIntervalMs: number;
  wake: OutboxWake;
  logger: Logger;
  metrics?: OutboxMetrics;
}

interface BatchResult {
  claimed: number;
  /** Nothing succeeded and every failure was a dependency being down: back off. */
  unavailable: boolean;
}

export class RelayWorker {
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: RelayWorkerOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Finishes the batch in hand and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.sleepers]) wake();
    this.options.wake.poke();
    await this.running;
  }

  /** Ends a backoff early: the dependency that was down is back. */
  dependencyRecovered(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Runs one batch now (tests, the CLI); returns how many events it claimed. */
  async drainOnce(): Promise<number> {
    return (await this.runBatch()).claimed;
  }

  private async loop(): Promise<void> {
    const { pollIntervalMs, batchSize, logger, wake } = this.options;
    let backoffMs = 0;
    while (!this.stopped) {
      let result: BatchResult;
      try {
        result = await this.runBatch();
      } catch (err) {
        if (this.stopped) break;
        logger.warn({ err }, 'relay batch failed; backing off');
        result = { claimed: 0, unavailable: true };
      }
      if (this.stopped) break;
      if (result.unavailable) {
        // Wake-ups are ignored here: a broken dependency must not be hammered on every commit.
        backoffMs = Math.min(pollIntervalMs * 5, backoffMs ? backoffMs * 2 : pollIntervalMs / 4);
        await this.sleep(backoffMs);
        continue;
      }
      backoffMs = 0;
      if (result.claimed < batchSize) await wake.wait(pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private async runBatch(): Promise<BatchResult> {
    const { db, consumers, consumerTimeoutMs, policy, batchSize } = this.options;
    const batch = await db.transaction(async (tx) => {
      const records = await claimDue(tx, batchSize);
      if (records.length === 0) return undefined;
      const outcomes = await Promise.all(
        records.map((record) => runConsumers(consumers, record, consumerTimeoutMs)),
      );
      const done: OutboxRecord[] = [];
      const failures: Array<{ record: OutboxRecord; update: FailureUpdate }> = [];
      records.forEach((record, i) => {
        const outcome = outcomes[i]!;
        if (outcome.remaining.length === 0) done.push(record);
        else failures.push({ record, update: failureUpdate(record, outcome, policy) });
      });
      await markProcessed(
        tx,
        done.map((r) => r.id),
      );
      await recordFailures(
        tx,
        failures.map((f) => f.update),
      );
      return { records, done, failures };
    });
    if (!batch) return { claimed: 0, unavailable: false };
    // Reported only once the transaction committed: a failed commit changed nothing.
    this.report(batch.done, batch.failures);
    const unavailable =
      batch.done.length === 0 && batch.failures.every((f) => f.update.attemptsUsed === 0);
    return { claimed: batch.records.length, unavailable };
  }

  private report(
    done: readonly OutboxRecord[],
    failures: ReadonlyArray<{ record: OutboxRecord; update: FailureUpdate }>,
  ): void {
    const { metrics, logger } = this.options;
    for (const record of done) metrics?.observePublished('worker', record.createdAtMs);
    metrics?.observeProcessed(
      'worker',
      done.map((r) => r.createdAtMs),
    );
    let failed = 0;
    for (const { record, update } of failures) {
      metrics?.retries.inc({ reason: update.attemptsUsed ? 'failed' : 'unavailable' });
      if (update.attemptsUsed) failed += 1;
      if (update.deadLetter) {
        metrics?.deadLettered.inc();
        logger.error(
          { event: record.id, type: record.type, topic: record.topic, error: update.error },
          'outbox event dead-lettered after its last attempt',
        );
      }
    }
    if (failed > 0) {
      logger.warn(
        { failed, error: failures.find((f) => f.update.attemptsUsed)?.update.error },
        'outbox consumers failed; retrying with backoff',
      );
    }
  }
}
