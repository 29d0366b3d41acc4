import { expect, it } from 'vitest';
import { describeBrokerContract } from './broker.contract.js';
import { createMemoryBroker } from './memory-broker.js';

describeBrokerContract('memory', () => Promise.resolve(createMemoryBroker()));

it('bounds the number of topics with history, dropping the least recently published', async () => {
  const broker = createMemoryBroker({ maxHistoryTopics: 2 });
  const opts = { maxLength: 10, ttlSeconds: 60 };
  await broker.publish('a', '1', opts);
  await broker.publish('b', '1', opts);
  await broker.publish('a', '2', opts);
  await broker.publish('c', '1', opts);
  expect((await broker.readHistory('a', 0, 10)).latestSeq).toBe(2);
  expect((await broker.readHistory('b', 0, 10)).latestSeq).toBe(0);
  expect((await broker.readHistory('c', 0, 10)).latestSeq).toBe(1);
});

it('expires history after its ttl', async () => {
  let now = 1_000_000;
  const broker = createMemoryBroker({ now: () => now });
  await broker.publish('a', '1', { maxLength: 10, ttlSeconds: 5 });
  now += 6000;
  const page = await broker.readHistory('a', 1, 10);
  expect(page.latestSeq).toBe(0);
  expect(page.complete).toBe(false);
});
