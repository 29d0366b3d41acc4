import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionSink } from './connection.js';

const sink: ConnectionSink = {
  transport: 'ws',
  sendEvent: () => true,
  sendFrame: () => true,
  bufferedBytes: () => 0,
  close: () => undefined,
};

describe('Connection topics and positions', () => {
  it('keeps any number of topics, each with its own position', () => {
    const connection = new Connection('u1', '127.0.0.1', sink);
    const topics = ['user.u1', 'broadcast', 'chat.channel.a', 'chat.channel.b'];
    for (const topic of topics) connection.addTopic(topic);
    expect([...connection.subscribedTopics()]).toEqual(topics);
    topics.forEach((topic, i) => connection.setPosition(topic, 10 + i));
    expect(topics.map((topic) => connection.position(topic))).toEqual([10, 11, 12, 13]);
    expect(connection.positions()).toEqual(new Map(topics.map((topic, i) => [topic, 10 + i])));
  });

  it('has no position for a topic until one is set, and keeps it when added again', () => {
    const connection = new Connection('u1', '127.0.0.1', sink);
    connection.addTopic('a');
    connection.addTopic('b');
    connection.addTopic('c');
    expect(connection.position('a')).toBeUndefined();
    expect(connection.positions().size).toBe(0);
    connection.setPosition('b', 0);
    connection.setPosition('c', 7);
    connection.addTopic('b');
    connection.addTopic('c');
    expect(connection.position('b')).toBe(0);
    expect(connection.position('c')).toBe(7);
    expect([...connection.subscribedTopics()]).toEqual(['a', 'b', 'c']);
  });

  it('forgets a removed topic and its position, and ignores positions of topics it lacks', () => {
    const connection = new Connection('u1', '127.0.0.1', sink);
    for (const topic of ['a', 'b', 'c']) connection.addTopic(topic);
    for (const topic of ['a', 'b', 'c']) connection.setPosition(topic, 5);
    expect(connection.removeTopic('a')).toBe(true);
    expect(connection.removeTopic('c')).toBe(true);
    expect(connection.removeTopic('c')).toBe(false);
    expect(connection.removeTopic('never')).toBe(false);
    expect(connection.isSubscribed('a')).toBe(false);
    expect(connection.isSubscribed('b')).toBe(true);
    connection.setPosition('a', 9);
    connection.setPosition('never', 9);
    expect(connection.position('a')).toBeUndefined();
    expect(connection.isSubscribed('never')).toBe(false);
    // A topic added again starts without a position.
    connection.addTopic('a');
    expect(connection.position('a')).toBeUndefined();
    expect(new Set(connection.subscribedTopics())).toEqual(new Set(['a', 'b']));
    expect(connection.positions()).toEqual(new Map([['b', 5]]));
  });

  it('lets topics be removed while they are listed, and clears them all', () => {
    const connection = new Connection('u1', '127.0.0.1', sink);
    for (const topic of ['a', 'b', 'c', 'd']) connection.addTopic(topic);
    const listed: string[] = [];
    for (const topic of connection.subscribedTopics()) {
      listed.push(topic);
      connection.removeTopic(topic);
    }
    expect(listed).toEqual(['a', 'b', 'c', 'd']);
    expect([...connection.subscribedTopics()]).toEqual([]);
    for (const topic of ['x', 'y', 'z']) connection.addTopic(topic);
    connection.setPosition('z', 3);
    connection.clearTopics();
    expect([...connection.subscribedTopics()]).toEqual([]);
    expect(connection.position('z')).toBeUndefined();
    expect(connection.positions().size).toBe(0);
  });
});
