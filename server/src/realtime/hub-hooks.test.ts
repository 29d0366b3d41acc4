// The hub's hooks for modules: default topics from a provider (asked again after subscribing),
// reactions that change a connection's subscriptions before it sees the event that caused
// them, and ephemeral publishes that keep no history.
import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../broker/index.js';
import { testLogger } from '../test-support/services.js';
import type { ConnectionSink, OutgoingEvent } from './connection.js';
import { Hub } from './hub.js';

function makeHub() {
  const hub = new Hub({
    broker: createMemoryBroker(),
    logger: testLogger,
    history: { maxLength: 100, ttlSeconds: 60 },
  });
  hub.start();
  return hub;
}

/** A sink that records what the client would see, events and other frames in one list. */
function recordingSink() {
  const seen: string[] = [];
  const sink: ConnectionSink = {
    transport: 'ws',
    sendEvent(event: OutgoingEvent) {
      seen.push(`${event.topic}#${event.seq ?? '-'} ${event.type()}`);
      return true;
    },
    sendFrame(frame) {
      seen.push(`frame ${JSON.stringify(frame)}`);
      return true;
    },
    bufferedBytes: () => 0,
    close: () => undefined,
  };
  return { sink, seen };
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('hub hooks', () => {
  it('subscribes the provider topics with the defaults and reconciles changes made meanwhile', async () => {
    const hub = makeHub();
    const answers = [
      ['mod.a', 'mod.b'],
      ['mod.b', 'mod.c'],
    ];
    hub.useDefaultTopics(() => Promise.resolve(answers.shift() ?? []));
    expect(() => hub.useDefaultTopics(() => Promise.resolve([]))).toThrow(/already/);
    await hub.publish('mod.b', { type: 'x' });
    const { sink } = recordingSink();
    const connection = hub.addConnection('u1', '127.0.0.1', sink);
    const positions = await hub.subscribeDefaults(connection);
    expect([...connection.subscribedTopics()].sort()).toEqual([
      'broadcast',
      'mod.b',
      'mod.c',
      'user.u1',
    ]);
    expect(positions).toEqual({ 'user.u1': 0, broadcast: 0, 'mod.b': 1, 'mod.c': 0 });
  });

  it('runs a reaction before the event reaches the connection, holding later events', async () => {
    const hub = makeHub();
    const { sink, seen } = recordingSink();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    hub.reactTo('ctl.', ['joined'], async (connection, event) => {
      expect(event).toMatchObject({ topic: 'ctl.u1', type: 'joined' });
      await gate;
      const positions = await hub.subscribe(connection, ['room.1']);
      connection.sink.sendFrame({ op: 'subscribed', positions });
    });
    const connection = hub.addConnection('u1', '127.0.0.1', sink);
    await hub.subscribe(connection, ['ctl.u1']);
    await hub.publish('ctl.u1', { type: 'joined', room: 1 });
    await hub.publish('ctl.u1', { type: 'other' });
    await until(() => connection.heldLive('ctl.u1')?.length === 1);
    expect(seen).toEqual([]);
    release();
    await until(() => seen.length === 3);
    expect(seen).toEqual([
      'frame {"op":"subscribed","positions":{"room.1":0}}',
      'ctl.u1#1 joined',
      'ctl.u1#2 other',
    ]);
    await hub.publish('room.1', { type: 'said' });
    await until(() => seen.length === 4);
    expect(seen[3]).toBe('room.1#1 said');
  });

  it('runs reactions on replayed events too, and a failing one does not stop delivery', async () => {
    const hub = makeHub();
    const reacted: number[] = [];
    hub.reactTo('ctl.', ['joined'], (_connection, event) => {
      reacted.push(event.seq ?? -1);
      return Promise.reject(new Error('boom'));
    });
    for (let i = 0; i < 3; i++) await hub.publish('ctl.u2', { type: i === 1 ? 'other' : 'joined' });
    const { sink, seen } = recordingSink();
    const connection = hub.addConnection('u2', '127.0.0.1', sink);
    await hub.subscribe(connection, ['ctl.u2'], new Map([['ctl.u2', 0]]));
    expect(reacted).toEqual([1, 3]);
    expect(seen).toEqual(['ctl.u2#1 joined', 'ctl.u2#2 other', 'ctl.u2#3 joined']);
  });

  it('publishes ephemeral events without a seq and keeps no history of them', async () => {
    const hub = makeHub();
    const { sink, seen } = recordingSink();
    const connection = hub.addConnection('u3', '127.0.0.1', sink);
    await hub.subscribe(connection, ['typing.1']);
    expect(await hub.publish('typing.1', { type: 'typing' }, { ephemeral: true })).toEqual({});
    await until(() => seen.length === 1);
    expect(seen).toEqual(['typing.1#- typing']);
    const late = recordingSink();
    const other = hub.addConnection('u4', '127.0.0.1', late.sink);
    expect(await hub.subscribe(other, ['typing.1'], new Map([['typing.1', 0]]))).toEqual({
      'typing.1': 0,
    });
    expect(late.seen).toEqual([]);
  });
});
