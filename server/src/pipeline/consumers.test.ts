import { describe, expect, it } from 'vitest';
import { BrokerUnavailableError } from '../broker/index.js';
import {
  ConsumerRegistry,
  RetryLaterError,
  runConsumers,
  type OutboxConsumer,
} from './consumers.js';
import type { OutboxRecord } from './events.js';
import { failureUpdate } from './retry-policy.js';

const consumer = (name: string, types: string[], handle: OutboxConsumer['handle']) => ({
  name,
  types,
  handle,
});
const ok = () => Promise.resolve();

function record(pending: string[], retryCount = 0): OutboxRecord {
  return {
    id: 7,
    type: 'message.created',
    topic: 'durable.t',
    seq: 3,
    payload: {},
    pending,
    retryCount,
    createdAtMs: Date.now(),
  };
}

describe('consumer registry', () => {
  it('matches exact types, prefixes and everything, in registration order', () => {
    const registry = new ConsumerRegistry();
    registry.register(consumer('realtime', ['*'], ok));
    registry.register(consumer('search', ['message.*'], ok));
    registry.register(consumer('webhooks', ['message.created', 'channel.created'], ok));
    expect(registry.namesFor('message.created')).toEqual(['realtime', 'search', 'webhooks']);
    expect(registry.namesFor('message.deleted')).toEqual(['realtime', 'search']);
    expect(registry.namesFor('typing')).toEqual(['realtime']);
  });

  it('refuses duplicate and malformed names', () => {
    const registry = new ConsumerRegistry();
    registry.register(consumer('realtime', ['*'], ok));
    expect(() => registry.register(consumer('realtime', ['*'], ok))).toThrow(/already/);
    expect(() => registry.register(consumer('Bad Name', ['*'], ok))).toThrow(/identifier/);
  });
});

describe('running consumers', () => {
  it('keeps only the failing consumers pending', async () => {
    const registry = new ConsumerRegistry();
    registry.register(consumer('a', ['*'], ok));
    registry.register(consumer('b', ['*'], () => Promise.reject(new Error('b broke'))));
    const outcome = await runConsumers(registry, record(['a', 'b']), 1000);
    expect(outcome).toEqual({ remaining: ['b'], error: 'b: b broke', transient: false });
  });

  it('calls an outage transient, and a consumer this node lacks a failure', async () => {
    const registry = new ConsumerRegistry();
    registry.register(
      consumer('realtime', ['*'], () => Promise.reject(new BrokerUnavailableError('down'))),
    );
    registry.register(consumer('later', ['*'], () => Promise.reject(new RetryLaterError('busy'))));
    expect((await runConsumers(registry, record(['realtime', 'later']), 1000)).transient).toBe(
      true,
    );
    const missing = await runConsumers(registry, record(['gone']), 1000);
    expect(missing).toMatchObject({ remaining: ['gone'], transient: false });
    expect(missing.error).toMatch(/no outbox consumer named gone/);
  });

  it('fails a consumer that takes longer than the timeout', async () => {
    const registry = new ConsumerRegistry();
    registry.register(consumer('slow', ['*'], () => new Promise(() => undefined)));
    const outcome = await runConsumers(registry, record(['slow']), 20);
    expect(outcome.error).toMatch(/did not finish within 20 ms/);
  });
});

describe('retry policy', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 6000 };
  const failed = { remaining: ['b'], error: 'boom', transient: false };

  it('doubles the delay per attempt within ±20 %, up to the maximum', () => {
    const delays = [0, 1, 2, 3].map(
      (retryCount) => failureUpdate(record(['b'], retryCount), failed, policy, () => 0.5).delayMs,
    );
    expect(delays).toEqual([1000, 2000, 4000, 6000]);
    expect(failureUpdate(record(['b']), failed, policy, () => 0).delayMs).toBe(800);
    expect(failureUpdate(record(['b']), failed, policy, () => 1).delayMs).toBe(1200);
  });

  it('dead-letters on the last attempt', () => {
    expect(failureUpdate(record(['b'], 3), failed, policy).deadLetter).toBe(false);
    expect(failureUpdate(record(['b'], 4), failed, policy)).toMatchObject({
      deadLetter: true,
      attemptsUsed: 1,
    });
  });

  it('does not count a transient failure as an attempt', () => {
    const update = failureUpdate(record(['b'], 4), { ...failed, transient: true }, policy);
    expect(update).toMatchObject({ attemptsUsed: 0, deadLetter: false, delayMs: 1000 });
  });
});
