import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { makeOutgoing, type OutgoingEvent } from '../../realtime/index.js';
import { AgentStream } from './agent-stream.js';
import { DeliveredMarker } from './delivered-marker.js';
import type { Database } from '../../store/index.js';

/** An HTTP response's writing side, kept as text. */
function response(): { raw: ServerResponse; text: () => string } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { raw: sink as unknown as ServerResponse, text: () => text };
}

const event = (seq: number): OutgoingEvent =>
  makeOutgoing(
    'relay.account.a',
    seq,
    JSON.stringify({ type: 'pairing_expired', reason: `r${seq}` }),
  );

function stream(raw: ServerResponse): AgentStream {
  const log = pino({ level: 'silent' });
  return new AgentStream({
    raw,
    maxBufferBytes: 1 << 20,
    marker: new DeliveredMarker(undefined as unknown as Database, log, Date.now),
    log,
    credential: 'relay_token',
    endAfter: new Set(),
    onEnd: () => undefined,
  });
}

const order = (text: string) =>
  [...text.matchAll(/^(?:id: (\d+)\n)?event: (\w+)/gm)].map(([, id, type]) => id ?? type);

describe('AgentStream announcement', () => {
  it('writes `connected` after the replay and before the first live event', async () => {
    const { raw, text } = response();
    const agent = stream(raw);
    agent.announceAfter(2, 'connected', { status: 'paired' });
    agent.sendEvent(event(1));
    agent.sendEvent(event(2));
    agent.sendEvent(event(3));
    agent.settleAnnouncement();
    agent.sendEvent(event(4));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order(text())).toEqual(['1', '2', 'connected', '3', '4']);
  });

  it('writes `connected` when the stream goes live with nothing after the replay', async () => {
    const { raw, text } = response();
    const agent = stream(raw);
    agent.announceAfter(5, 'connected', { status: 'paired' });
    agent.sendEvent(event(5));
    agent.settleAnnouncement();
    agent.settleAnnouncement();
    agent.sendEvent(event(6));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order(text())).toEqual(['5', 'connected', '6']);
  });
});
