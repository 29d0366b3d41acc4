// The consumers registry: modules register what must happen for each event type. Every consumer
// is tracked separately on the row, so one failing retries only its own work.
import { BrokerUnavailableError } from '../broker/index.js';
import { isDatabaseUnavailable } from '../store/index.js';
import type { OutboxRecord } from './events.js';

export interface OutboxConsumer {
  /** Stable name, stored on pending rows; renaming one orphans its pending work. */
  readonly name: string;
  /** Event types it handles: exact names, prefixes ending in `*`, or `*` for every event. */
  readonly types: readonly string[];
  handle(event: OutboxRecord): Promise<void>;
}

/** Thrown by a consumer for a failure that is not the event's fault (a dependency is down). */
export class RetryLaterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

/** Failures that say nothing about the event: they are retried without using up its attempts. */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof RetryLaterError ||
    err instanceof BrokerUnavailableError ||
    isDatabaseUnavailable(err)
  );
}

function matches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

export class ConsumerRegistry {
  private readonly byName = new Map<string, OutboxConsumer>();
  private readonly forTypeCache = new Map<string, readonly string[]>();

  register(consumer: OutboxConsumer): void {
    if (!/^[a-z][a-z0-9_.-]{0,62}$/.test(consumer.name)) {
      throw new Error(
        `consumer name ${JSON.stringify(consumer.name)} is not a lowercase identifier`,
      );
    }
    if (this.byName.has(consumer.name)) {
      throw new Error(`an outbox consumer named ${consumer.name} is registered already`);
    }
    this.byName.set(consumer.name, consumer);
    this.forTypeCache.clear();
  }

  get(name: string): OutboxConsumer | undefined {
    return this.byName.get(name);
  }

  /** Names of the consumers an event of `type` must go through, in registration order. */
  namesFor(type: string): readonly string[] {
    let names = this.forTypeCache.get(type);
    if (!names) {
      names = [...this.byName.values()]
        .filter((c) => c.types.some((pattern) => matches(pattern, type)))
        .map((c) => c.name);
      this.forTypeCache.set(type, names);
    }
    return names;
  }
}

export interface ConsumerOutcome {
  /** Consumers that still have to run (failed ones). Empty when the event is done. */
  readonly remaining: string[];
  /** Every failure's message, one line per consumer. */
  readonly error?: string;
  /** True when every failure was transient: the event's attempts are not used up. */
  readonly transient: boolean;
}

/** Runs an event's pending consumers concurrently, each within `timeoutMs`. */
export async function runConsumers(
  registry: ConsumerRegistry,
  record: OutboxRecord,
  timeoutMs: number,
): Promise<ConsumerOutcome> {
  const failures: Array<{ name: string; err: unknown }> = [];
  await Promise.all(
    record.pending.map(async (name) => {
      const consumer = registry.get(name);
      try {
        if (!consumer) throw new Error(`no outbox consumer named ${name} is registered`);
        await withTimeout(consumer.handle(record), timeoutMs, name);
      } catch (err) {
        failures.push({ name, err });
      }
    }),
  );
  if (failures.length === 0) return { remaining: [], transient: false };
  return {
    remaining: record.pending.filter((name) => failures.some((f) => f.name === name)),
    error: failures
      .map(({ name, err }) => `${name}: ${err instanceof Error ? err.message : String(err)}`)
      .join('\n')
      .slice(0, 4000),
    transient: failures.every(({ err }) => isTransient(err)),
  };
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
