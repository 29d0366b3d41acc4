// The pipeline's Prometheus metrics, on the process's one Registry. Gauges that describe the
// whole outbox are read from the database at scrape time, at most once per second.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OutboxStats } from './outbox-queries.js';

export type PublishPath = 'fast' | 'worker';

export class OutboxMetrics {
  readonly published: Counter<'path'>;
  readonly commitToPublish: Histogram<'path'>;
  readonly commitToProcessed: Histogram<'path'>;
  readonly retries: Counter<'reason'>;
  readonly deadLettered: Counter;

  constructor(registry: Registry, readStats: () => Promise<OutboxStats>) {
    const registers = [registry];
    let cached: { at: number; stats: Promise<OutboxStats> } | undefined;
    const stats = () => {
      if (!cached || Date.now() - cached.at > 1000) {
        cached = { at: Date.now(), stats: readStats() };
      }
      return cached.stats;
    };
    const gauge = (name: string, help: string, pick: (s: OutboxStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          try {
            this.set(pick(await stats()));
          } catch {
            // The database is down: the readiness check says so; keep the last value.
          }
        },
      });
    gauge('outbox_pending_rows', 'Outbox events not yet done by every consumer.', (s) => s.pending);
    gauge(
      'outbox_lag_seconds',
      'Age of the oldest outbox event not yet done (0 when none).',
      (s) => s.oldestPendingSeconds,
    );
    gauge(
      'outbox_dead_letters',
      'Outbox events that gave up after their attempts.',
      (s) => s.deadLetters,
    );
    this.published = new Counter({
      name: 'outbox_published_total',
      help: 'Outbox events done by every consumer, by the path that finished them.',
      labelNames: ['path'],
      registers,
    });
    this.commitToPublish = new Histogram({
      name: 'outbox_commit_to_publish_seconds',
      help: 'From the commit of an outbox event to the end of its consumers, by path.',
      labelNames: ['path'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.commitToProcessed = new Histogram({
      name: 'outbox_commit_to_processed_seconds',
      help: 'From the commit of an outbox event to the commit of its processed mark, by path.',
      labelNames: ['path'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.retries = new Counter({
      name: 'outbox_retries_total',
      help: 'Failed outbox attempts scheduled again: `failed` uses up an attempt, `unavailable` does not.',
      labelNames: ['reason'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'outbox_dead_lettered_total',
      help: 'Outbox events dead-lettered by this process.',
      registers,
    });
  }

  observePublished(path: PublishPath, sinceMs: number): void {
    this.published.inc({ path });
    this.commitToPublish.observe({ path }, Math.max(0, Date.now() - sinceMs) / 1000);
  }

  /** Events whose processed marks committed now, each committed at its `sinceMs`. */
  observeProcessed(path: PublishPath, sinceMs: readonly number[]): void {
    const child = this.commitToProcessed.labels({ path });
    const now = Date.now();
    for (const since of sinceMs) child.observe(Math.max(0, now - since) / 1000);
  }
}
