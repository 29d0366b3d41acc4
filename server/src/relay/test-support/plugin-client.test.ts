// The agent client's wire behaviour against a scripted SSE server: URL building, the framing
// quirks, Last-Event-ID, the reconnect policy and session invalidation.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  errorMessageOf,
  PluginClient,
  reconnectDelay,
  relayEndpoint,
  RelayHttpError,
  splitSseBlocks,
} from './plugin-client.js';

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
const clients: PluginClient[] = [];

async function scriptedRelay(handler: Handler) {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/relay/`, requests };
}

function client(url: string, token = 't0k3n'): PluginClient {
  const c = new PluginClient({ relayUrl: url, token, reconnectBaseMs: 5, random: () => 0 });
  clients.push(c);
  return c;
}

const message = (id: string) =>
  JSON.stringify({
    id,
    conversationKey: 'bot:user',
    normalized: { userId: 'user', text: 'hi', channelId: 'bot' },
    createdAt: '2026-02-01T00:00:00Z',
  });

afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

describe('plugin client', () => {
  it('builds URLs relative to a relay URL with or without a trailing slash', () => {
    expect(relayEndpoint('http://h/base', 'v1/events')).toBe('http://h/base/v1/events');
    expect(relayEndpoint('http://h/base/', 'openclaw/reply')).toBe('http://h/base/openclaw/reply');
    expect(relayEndpoint('http://h', 'health')).toBe('http://h/health');
  });

  it('splits on blank lines only, keeps the last data line and ignores comments', () => {
    const { blocks, rest } = splitSseBlocks(
      ': ping\n\nevent: a\ndata: {"n":1}\ndata: {"n":2}\nid: 7\n\nevent: b\r\ndata: {}\r\n\r\nevent: c',
    );
    expect(blocks[0]).toEqual({ type: undefined, id: undefined, data: undefined });
    expect(blocks[1]).toEqual({ type: 'a', id: '7', data: '{"n":2}' });
    // CRLF framing never ends a block: the rest is one unfinished block.
    expect(blocks).toHaveLength(2);
    expect(rest).toContain('event: b');
  });

  it('backs off exponentially with at most 20 % jitter, capped', () => {
    expect(reconnectDelay(0, 1000, 30_000, () => 0)).toBe(1000);
    expect(reconnectDelay(3, 1000, 30_000, () => 1)).toBe(9600);
    expect(reconnectDelay(10, 1000, 30_000, () => 1)).toBe(30_000);
  });

  it('reads error messages in every shape relays used', () => {
    expect(errorMessageOf({ error: { code: 'x', message: 'm' } })).toEqual({
      code: 'x',
      message: 'm',
    });
    expect(errorMessageOf({ error: 'm', code: 'C' })).toEqual({ code: 'C', message: 'm' });
    expect(errorMessageOf({ message: 'm' })).toEqual({ code: undefined, message: 'm' });
  });

  it('sends the plugin headers, drops what the plugin drops and resumes with Last-Event-ID', async () => {
    const relay = await scriptedRelay((req, res, attempt) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (attempt === 1) {
        res.write(': ping\n\n');
        res.write(`id: 1\nevent: message\ndata: ${message('m1')}\n\n`);
        res.write(`id: 2\ndata: ${message('no-event')}\n\n`);
        res.write('id: 3\nevent: message\ndata: {not json\n\n');
        res.write('id: 4\nevent: message\ndata: {"id":"bad shape"}\n\n');
        res.end(`id: 5\nevent: message\ndata: ${message('m5')}\n\n`);
      } else {
        res.write(`id: 6\nevent: message\ndata: ${message('m6')}\n\n`);
      }
    });
    const c = client(relay.url);
    c.start();
    await c.until('m6', () => c.messages().some((m) => m.id === 'm6'));
    expect(c.messages().map((m) => m.id)).toEqual(['m1', 'm5', 'm6']);
    expect(c.dropped.map((d) => d.reason)).toEqual([
      'missing event or data',
      'missing event or data',
      'malformed JSON',
      'not a valid message',
    ]);
    const [first, second] = relay.requests;
    expect(first!.url).toBe('/relay/v1/events');
    expect(first!.headers.authorization).toBe('Bearer t0k3n');
    expect(first!.headers.accept).toBe('text/event-stream');
    expect(first!.headers['cache-control']).toBe('no-cache');
    expect(first!.headers['last-event-id']).toBeUndefined();
    // A clean end reconnects at once, resuming after the last id seen.
    expect(second!.headers['last-event-id']).toBe('5');
    expect(c.connections).toBe(2);
  });

  it('reconnects right after pairing_complete, keeping the stream otherwise open', async () => {
    const relay = await scriptedRelay((_req, res, attempt) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (attempt === 1) {
        res.write(
          'id: 1\nevent: pairing_complete\ndata: {"kakaoUserId":"u","pairedAt":"2026-02-01T00:00:00Z","accountId":"a"}\n\n',
        );
      } else res.write(`id: 1\nevent: message\ndata: ${message('after')}\n\n`);
    });
    const c = client(relay.url);
    c.start();
    await c.until('the message after pairing', () => c.messages().length === 1);
    expect(c.eventsOf('pairing_complete')).toHaveLength(1);
    expect(c.eventsOf('message')[0]!.connection).toBe(2);
  });

  it('stops on 401 and 410 with the relay error, and retries other statuses', async () => {
    const relay = await scriptedRelay((_req, res, attempt) => {
      res.writeHead(attempt < 3 ? 503 : 410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'session_expired', message: 'Session expired' } }));
    });
    const c = client(relay.url);
    c.start();
    await c.until('invalidation', () => c.state === 'invalidated');
    expect(relay.requests).toHaveLength(3);
    expect(c.token).toBeUndefined();
    expect(c.failure).toBeInstanceOf(RelayHttpError);
    expect((c.failure as RelayHttpError).status).toBe(410);
    expect((c.failure as RelayHttpError).code).toBe('session_expired');
  });

  it('counts a reply only with boolean success in a 2xx JSON body', async () => {
    const bodies = [
      { status: 200, body: { success: true, deliveredAt: 1 } },
      { status: 200, body: { ok: true } },
      { status: 409, body: { error: { code: 'callback_used', message: 'used' } } },
      { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } },
    ];
    const relay = await scriptedRelay((_req, res, attempt) => {
      const next = bodies[attempt - 1]!;
      res.writeHead(next.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(next.body));
    });
    const c = client(relay.url);
    await expect(c.reply('m', { version: '2.0' })).resolves.toEqual(bodies[0]!.body);
    await expect(c.reply('m', { version: '2.0' })).rejects.toThrow('without success');
    await expect(c.reply('m', { version: '2.0' })).rejects.toMatchObject({
      status: 409,
      code: 'callback_used',
    });
    expect(c.token).toBe('t0k3n');
    await expect(c.reply('m', { version: '2.0' })).rejects.toMatchObject({ status: 401 });
    expect(c.token).toBeUndefined();
    expect(relay.requests[0]!.url).toBe('/relay/openclaw/reply');
  });
});
