// How long a failed event waits before its next attempt, and when it becomes a dead letter.
import type { ConsumerOutcome } from './consumers.js';
import type { OutboxRecord } from './events.js';
import type { FailureUpdate } from './outbox-queries.js';

export interface RetryPolicy {
  /** Attempts before an event is dead-lettered; transient failures do not count. */
  readonly maxAttempts: number;
  /** Delay after the first failed attempt; doubles with each further one. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export function failureUpdate(
  record: OutboxRecord,
  outcome: ConsumerOutcome,
  policy: RetryPolicy,
  random: () => number = Math.random,
): FailureUpdate {
  const error = outcome.error ?? 'failed';
  if (outcome.transient) {
    return {
      id: record.id,
      pending: outcome.remaining,
      error,
      attemptsUsed: 0,
      delayMs: policy.baseDelayMs,
      deadLetter: false,
    };
  }
  const attempts = record.retryCount + 1;
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1));
  // ±20 % so that events failing together do not retry together.
  const delayMs = Math.round(exponential * (0.8 + 0.4 * random()));
  return {
    id: record.id,
    pending: outcome.remaining,
    error,
    attemptsUsed: 1,
    delayMs,
    deadLetter: attempts >= policy.maxAttempts,
  };
}
