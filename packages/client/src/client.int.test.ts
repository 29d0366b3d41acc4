// The client against a real in-process server: connect and receive, requests, reconnects while
// events keep coming (exactly once, in order), gaps filled by resume, resync_required, token
// refresh and refusal, backoff, app-level ping, and SSE (fetch and EventSource) resuming with
// Last-Event-ID.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { freePort, waitFor } from '../../../server/src/test-support/processes.js';
import { startTestServer, type TestServer } from '../../../server/src/test-support/server.js';
import { target } from '../../../server/src/test-support/services.js';
import type {
  ClientEvent,
  Clock,
  EventSourceLike,
  FetchLike,
  ResyncInfo,
  StateChange,
  SwitchboardClient,
} from './index.js';
import { ClientError, createClient, SseParser } from './index.js';
import { createNodeClient, NodeWebSocket } from './node.js';

const HISTORY = 300;
const fast = { initialDelayMs: 5, maxDelayMs: 50 };
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const until = (what: string, condition: () => boolean, timeoutMs = 15_000) =>
  waitFor(what, () => Promise.resolve(condition() ? true : undefined), {
    timeoutMs,
    intervalMs: 5,
  });
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** A WebSocket proxy in front of the server that can drop frames either way. */
interface Proxy {
  url: string;
  /** Client ops forwarded upstream, in order. */
  upOps: string[];
  close(): Promise<void>;
}

async function startProxy(
  upstream: string,
  rules: {
    dropDown?: (frame: Record<string, unknown>) => boolean;
    dropUp?: (frame: Record<string, unknown>, connection: number) => boolean;
  },
): Promise<Proxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const upOps: string[] = [];
  const sockets = new Set<WebSocket>();
  let connections = 0;
  wss.on('connection', (client, request) => {
    const index = connections++;
    const up = new WebSocket(`${upstream}${request.url ?? '/'}`);
    sockets.add(client).add(up);
    const early: string[] = [];
    up.on('open', () => early.splice(0).forEach((text) => up.send(text)));
    client.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      const frame = JSON.parse(text) as Record<string, unknown>;
      if (rules.dropUp?.(frame, index)) return;
      upOps.push(String(frame.op));
      if (up.readyState === WebSocket.OPEN) up.send(text);
      else early.push(text);
    });
    up.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      if (!rules.dropDown?.(JSON.parse(text) as Record<string, unknown>)) client.send(text);
    });
    up.on('close', (code, reason) => {
      if (code === 1005 || code === 1006) client.terminate();
      else client.close(code, reason.toString());
    });
    client.on('close', () => up.close());
    up.on('error', () => client.terminate());
    client.on('error', () => up.terminate());
  });
  return {
    url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    upOps,
    async close() {
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A small EventSource over fetch, standing in for the browser's (Node 20 has none). */
class FetchEventSource implements EventSourceLike {
  static readonly urls: string[] = [];
  readyState = 0;
  onerror: ((event: never) => void) | null = null;
  private readonly listeners = new Map<
    string,
    Array<(event: { data: string; lastEventId: string }) => void>
  >();
  private readonly controller = new AbortController();

  constructor(url: string) {
    FetchEventSource.urls.push(url);
    void this.run(url);
  }

  addEventListener(
    type: string,
    listener: (event: { data: string; lastEventId: string }) => void,
  ): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.readyState = 2;
    this.controller.abort();
  }

  private async run(url: string): Promise<void> {
    try {
      const response = await fetch(url, { signal: this.controller.signal });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      this.readyState = 1;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      let lastEventId = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          if (message.id !== undefined) lastEventId = message.id;
          for (const listener of this.listeners.get(message.event) ?? []) {
            listener({ data: message.data, lastEventId });
          }
        }
      }
    } catch {
      // Aborted or refused: reported through onerror like the browser does.
    }
    if (this.readyState === 2) return;
    this.readyState = 2;
    (this.onerror as unknown as (() => void) | null)?.();
  }
}

/** Publishes numbered events on a topic and the user's topic while the server drops every
 * connection `kills` times; returns how many were published. */
async function publishThroughKills(
  t: TestServer,
  client: SwitchboardClient,
  topic: string,
  userId: string,
  received: () => number,
  kills: number,
): Promise<number> {
  const hub = t.server.realtime.hub;
  let done = 0;
  let stop = false;
  let published = 0;
  const publish = async () => {
    published += 1;
    await hub.publish(topic, { type: 'tick', n: published });
    await hub.push([userId], { type: 'inbox.item', n: published });
  };
  const publisher = (async () => {
    while (done < kills && !stop) {
      await publish();
      if (published % 3 === 0) await tick();
    }
    for (let i = 0; i < 20; i++) await publish();
  })();
  try {
    while (done < kills) {
      const seen = received();
      await until(
        'new events on an open connection',
        () => client.state === 'open' && received() >= seen + 10,
      );
      hub.closeAll();
      done += 1;
    }
  } finally {
    stop = true;
    await publisher;
  }
  return published;
}

function recordStates(client: SwitchboardClient): StateChange[] {
  const states: StateChange[] = [];
  client.onState((change) => states.push(change));
  return states;
}

describe(`client SDK against a real server (${target})`, () => {
  let t: TestServer;
  const clients: SwitchboardClient[] = [];
  const track = (client: SwitchboardClient) => {
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    t = await startTestServer({ env: { REALTIME_HISTORY_SIZE: String(HISTORY) } });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await t?.stop();
  });

  it('connects, receives topic and user events, and correlates requests with replies', async () => {
    const client = track(
      createNodeClient({ url: t.url, getToken: () => t.token('ann', { topics: ['news.*'] }) }),
    );
    const states = recordStates(client);
    await client.connect();
    expect(client.state).toBe('open');
    expect(states).toEqual([
      { state: 'connecting', attempt: 0 },
      { state: 'open', userId: 'ann' },
    ]);
    const news: ClientEvent[] = [];
    const mail: Array<ClientEvent<{ subject: string }>> = [];
    const everything: ClientEvent[] = [];
    await client.subscribe('news.a', (event) => news.push(event));
    client.on<{ subject: string }>('email.new', (event) => mail.push(event));
    client.on('*', (event) => everything.push(event));

    await t.server.realtime.hub.publish('news.a', { type: 'score', n: 1 });
    await t.server.realtime.hub.push(['ann'], { type: 'email.new', subject: 'hi' });
    await until('both events', () => everything.length === 2);
    expect(news).toEqual([{ topic: 'news.a', seq: expect.any(Number), type: 'score', n: 1 }]);
    expect(mail).toEqual([
      { topic: 'user.ann', seq: expect.any(Number), type: 'email.new', subject: 'hi' },
    ]);
    expect(client.positions()).toMatchObject({ 'news.a': news[0]!.seq, 'user.ann': mail[0]!.seq });

    expect(await client.request('ping')).toMatchObject({ op: 'pong' });
    await expect(client.request('fly')).rejects.toMatchObject({ code: 'unknown_op' });
    await expect(client.subscribe('user.someone-else', () => undefined)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(client.subscribe('not a topic', () => undefined)).rejects.toBeInstanceOf(
      ClientError,
    );

    // After unsubscribing, the topic's events no longer reach its handler.
    await client.unsubscribe('news.a');
    await t.server.realtime.hub.publish('news.a', { type: 'score', n: 2 });
    await t.server.realtime.hub.push(['ann'], { type: 'email.new', subject: 'after' });
    await until('the later mail', () => mail.length === 2);
    expect(news).toHaveLength(1);
    client.close();
    expect(client.state).toBe('closed');
  });

  it('[early] a subscription made while a connection opens is on that connection', async () => {
    // The hook runs once the socket or stream is being opened, its topics already chosen.
    let hook: (() => void) | undefined;
    const runHook = () => {
      const run = hook;
      hook = undefined;
      run?.();
    };
    class HookedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        runHook();
      }
    }
    const hookedFetch: FetchLike = (url, init) => {
      runHook();
      return fetch(url, init);
    };
    for (const transport of ['ws', 'sse'] as const) {
      const client = track(
        createClient({
          url: t.url,
          transport,
          WebSocket: HookedWebSocket,
          fetch: hookedFetch,
          getToken: () => t.token('lee', { topics: ['news.*'] }),
        }),
      );
      const got: number[] = [];
      const subscribed = new Promise<unknown>((resolve) => {
        hook = () => resolve(client.subscribe<{ n: number }>('news.early', (e) => got.push(e.n)));
      });
      await client.connect();
      await subscribed;
      await t.server.realtime.hub.publish('news.early', { type: 'tick', n: 1 });
      await until(`the event over ${transport}`, () => got.length === 1);
      // The user's own topic cannot be unsubscribed by accident: on() handlers still get it.
      const mine: string[] = [];
      client.on('note', (event) => mine.push(event.topic));
      const off = await client.subscribe('user.lee', () => undefined);
      await off();
      await t.server.realtime.hub.push(['lee'], { type: 'note' });
      await until(`the user event over ${transport}`, () => mine.length === 1);
      client.close();
    }
  });

  it('[exactly-once] reconnects after the server drops every socket while events keep coming', async () => {
    const client = track(
      createNodeClient({
        url: t.url,
        getToken: () => t.token('bea', { topics: ['feed.*'] }),
        reconnect: fast,
      }),
    );
    const states = recordStates(client);
    const feed: number[] = [];
    const inbox: number[] = [];
    await client.connect();
    await client.subscribe<{ n: number }>('feed.x', (event) => feed.push(event.n));
    client.on<{ n: number }>('inbox.item', (event) => inbox.push(event.n));

    const published = await publishThroughKills(t, client, 'feed.x', 'bea', () => feed.length, 5);
    await until('every event', () => feed.length >= published && inbox.length >= published);
    expect(feed).toEqual(range(1, published));
    expect(inbox).toEqual(range(1, published));
    const drops = states.filter((s) => s.state === 'reconnecting');
    expect(drops.length).toBeGreaterThanOrEqual(5);
    expect(drops[0]).toMatchObject({ code: 4009 });
    client.close();
  });

  it('[gap] asks for a resume when a seq is skipped and delivers the missing event in order', async () => {
    let dropped = false;
    const proxy = await startProxy(t.wsUrl, {
      dropDown: (frame) => {
        if (dropped || frame.op !== 'event' || frame.n !== 3) return false;
        dropped = true;
        return true;
      },
    });
    try {
      const client = track(
        createNodeClient({
          url: proxy.url,
          getToken: () => t.token('cleo', { topics: ['news.*'] }),
        }),
      );
      const states = recordStates(client);
      const got: number[] = [];
      await client.connect();
      await client.subscribe<{ n: number }>('news.gap', (event) => got.push(event.n));
      for (let n = 1; n <= 6; n++)
        await t.server.realtime.hub.publish('news.gap', { type: 'tick', n });
      await until('six events', () => got.length === 6);
      expect(dropped).toBe(true);
      expect(got).toEqual([1, 2, 3, 4, 5, 6]);
      expect(proxy.upOps).toContain('resume');
      expect(states.some((s) => s.state === 'reconnecting')).toBe(false);
      client.close();
    } finally {
      await proxy.close();
    }
  });

  it('[resync] surfaces resync_required when history no longer covers the gap, then goes on', async () => {
    let gate: Promise<void> = Promise.resolve();
    let release = () => undefined as void;
    let calls = 0;
    const client = track(
      createNodeClient({
        url: t.url,
        getToken: async () => {
          calls += 1;
          await gate;
          return t.token('dina', { topics: ['old.*'] });
        },
        reconnect: fast,
      }),
    );
    const got: number[] = [];
    const resyncs: Array<[string, ResyncInfo]> = [];
    client.onResync((topic, info) => resyncs.push([topic, info]));
    await client.connect();
    await client.subscribe<{ n: number }>('old.t', (event) => got.push(event.n));
    const hub = t.server.realtime.hub;
    await hub.publish('old.t', { type: 'tick', n: 1 });
    await hub.publish('old.t', { type: 'tick', n: 2 });
    await until('two events', () => got.length === 2);
    const before = client.positions()['old.t']!;

    gate = new Promise<void>((resolve) => (release = resolve));
    hub.closeAll();
    await until('a token request for the reconnect', () => calls === 2);
    let latest = 0;
    for (let n = 3; n <= HISTORY + 13; n++)
      latest = (await hub.publish('old.t', { type: 'tick', n })).seq!;
    release();
    await until('resync_required', () => resyncs.length === 1);
    expect(resyncs[0]).toEqual([
      'old.t',
      { topic: 'old.t', from: before, latest, reason: 'history_trimmed' },
    ]);
    await until('open again', () => client.state === 'open');
    await hub.publish('old.t', { type: 'tick', n: 9999 });
    await until('the next event', () => got.length === 3);
    expect(got).toEqual([1, 2, 9999]);
    expect(client.positions()['old.t']).toBe(latest + 1);
    client.close();
  });

  it('[token] asks for a token on every reconnect and gives up only when no new token comes', async () => {
    const good1 = await t.token('eve');
    const good2 = await t.token('eve', { v: 2 });
    const tokens = [good1, 'not.a.jwt', good2];
    let calls = 0;
    const client = track(
      createNodeClient({
        url: t.url,
        getToken: () => tokens[Math.min(calls++, 2)]!,
        reconnect: fast,
      }),
    );
    const states = recordStates(client);
    await client.connect();
    t.server.realtime.hub.closeAll();
    await until(
      'refused, then open with the new token',
      () =>
        states.some((s) => s.state === 'reconnecting' && s.code === 4001) &&
        client.state === 'open',
    );
    expect(calls).toBe(3);
    expect(await client.request('ping')).toMatchObject({ op: 'pong' });
    client.close();

    // The same refused token again: no point reconnecting.
    let stale = 0;
    const refused = track(
      createNodeClient({ url: t.url, getToken: () => (stale++, 'not.a.jwt'), reconnect: fast }),
    );
    await expect(refused.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(stale).toBe(2);
    expect(refused.state).toBe('closed');

    // A fixed token that is refused: closed at once, no reconnect.
    const fixed = track(createNodeClient({ url: t.url, token: 'not.a.jwt', reconnect: fast }));
    const fixedStates = recordStates(fixed);
    await expect(fixed.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(fixedStates.map((s) => s.state)).toEqual(['connecting', 'closed']);
    expect(fixedStates[1]).toMatchObject({ code: 4001 });
  });

  it('[denied] drops only the topics the server refuses when resubscribing', async () => {
    let grant = ['news.*', 'extra.*'];
    const client = track(
      createNodeClient({
        url: t.url,
        getToken: () => t.token('hal', { topics: grant }),
        reconnect: fast,
      }),
    );
    const states = recordStates(client);
    const errors: Error[] = [];
    client.onError((error) => errors.push(error));
    await client.connect();
    // A refused subscription is not kept (it would fail every later reconnect).
    await expect(client.subscribe('other.x', () => undefined)).rejects.toMatchObject({
      code: 'forbidden',
    });
    const kept: number[] = [];
    await client.subscribe<{ n: number }>('news.kept', (event) => kept.push(event.n));
    await client.subscribe('extra.lost', () => undefined);

    grant = ['news.*'];
    t.server.realtime.hub.closeAll();
    await until('open again', () => client.state === 'open' && errors.length === 1);
    expect(errors[0]).toMatchObject({ code: 'forbidden' });
    expect(states.filter((s) => s.state === 'reconnecting')).toHaveLength(1);
    await t.server.realtime.hub.publish('news.kept', { type: 'tick', n: 1 });
    await until('the kept topic still delivers', () => kept.length === 1);
    expect(Object.keys(client.positions())).not.toContain('extra.lost');
    client.close();
  });

  it('[backoff] waits longer on each failed attempt, jittered by the injected random numbers', async () => {
    const port = await freePort();
    const randoms = [0.5, 0, 0.25, 1, 0.5, 0];
    let r = 0;
    const asked: number[] = [];
    const clock: Clock = {
      setTimeout: (callback, ms) => {
        asked.push(ms);
        return setTimeout(callback, ms);
      },
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    };
    const client = track(
      createClient({
        url: `http://127.0.0.1:${port}`,
        token: 'x',
        WebSocket: NodeWebSocket,
        reconnect: { initialDelayMs: 10, maxDelayMs: 60, factor: 2, jitter: 0.5 },
        random: () => randoms[r++ % randoms.length]!,
        clock,
      }),
    );
    const delays: Array<[number, number]> = [];
    client.onState((s) => {
      if (s.state === 'reconnecting') delays.push([s.attempt, s.delayMs]);
    });
    void client.connect().catch(() => undefined);
    await until('six reconnects', () => delays.length >= 6);
    client.close();
    // bound = min(60, 10 * 2^n); delay = bound * (1 - 0.5 * random)
    expect(delays.slice(0, 6)).toEqual([
      [1, 8],
      [2, 20],
      [3, 35],
      [4, 30],
      [5, 45],
      [6, 60],
    ]);
    expect(asked.slice(0, 6)).toEqual([8, 20, 35, 30, 45, 60]);
  });

  it('[ping] pings at the application level and reconnects when no pong comes', async () => {
    const proxy = await startProxy(t.wsUrl, {
      // The first connection goes deaf after authenticating and subscribing: pings get no answer.
      dropUp: (frame, connection) => connection === 0 && frame.op === 'ping',
    });
    try {
      const client = track(
        createNodeClient({
          url: proxy.url,
          getToken: () => t.token('finn'),
          pingIntervalMs: 30,
          pongTimeoutMs: 60,
          reconnect: fast,
        }),
      );
      const states = recordStates(client);
      await client.connect();
      await until(
        'a pong timeout and a new connection',
        () =>
          states.some((s) => s.state === 'reconnecting' && s.code === 4005) &&
          client.state === 'open',
      );
      // The second connection answers pings: it stays open across several intervals.
      const pingsBefore = proxy.upOps.filter((op) => op === 'ping').length;
      await until(
        'three answered pings',
        () => proxy.upOps.filter((op) => op === 'ping').length >= pingsBefore + 3,
      );
      expect(states.filter((s) => s.state === 'reconnecting')).toHaveLength(1);
      client.close();
    } finally {
      await proxy.close();
    }
  });

  it('[query-auth] authenticates with ?token= and resumes the same way', async () => {
    const client = track(
      createNodeClient({
        url: t.url,
        authIn: 'query',
        getToken: () => t.token('ida', { topics: ['feed.*'] }),
        reconnect: fast,
      }),
    );
    const feed: number[] = [];
    const inbox: number[] = [];
    await client.connect();
    await client.subscribe<{ n: number }>('feed.q', (event) => feed.push(event.n));
    client.on<{ n: number }>('inbox.item', (event) => inbox.push(event.n));
    const published = await publishThroughKills(t, client, 'feed.q', 'ida', () => feed.length, 2);
    await until('every event', () => feed.length >= published && inbox.length >= published);
    expect(feed).toEqual(range(1, published));
    // The user topic's position is learnt from its first event, so the first few may predate it.
    expect(inbox).toEqual(range(inbox[0]!, published));
    client.close();
  });

  it('[sse-gap] reconnects from the last delivered position when a stream skips a seq', async () => {
    let dropped = false;
    const cursors: string[] = [];
    const droppingFetch: FetchLike = async (url, init) => {
      cursors.push(init.headers['last-event-id'] ?? '');
      const response = await fetch(url, init);
      if (!response.ok || !response.body) return response;
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      let buffer = '';
      const body = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            buffer += decoder.decode(chunk, { stream: true });
            const blocks = buffer.split('\n\n');
            buffer = blocks.pop()!;
            for (const block of blocks) {
              if (!dropped && block.includes('"n":3')) {
                dropped = true;
                continue;
              }
              controller.enqueue(encoder.encode(`${block}\n\n`));
            }
          },
        }),
      );
      return { ok: true, status: response.status, body, text: () => response.text() };
    };
    const client = track(
      createClient({
        url: t.url,
        transport: 'sse',
        getToken: () => t.token('jo', { topics: ['feed.*'] }),
        fetch: droppingFetch,
        reconnect: fast,
      }),
    );
    const got: number[] = [];
    await client.connect();
    await client.subscribe<{ n: number }>('feed.sgap', (event) => got.push(event.n));
    const seqs: number[] = [];
    for (let n = 1; n <= 6; n++) {
      seqs.push((await t.server.realtime.hub.publish('feed.sgap', { type: 'tick', n })).seq!);
    }
    await until('six events', () => got.length === 6);
    expect(dropped).toBe(true);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cursors.at(-1)).toContain(`feed.sgap=${seqs[1]}`);
    client.close();
  });

  it('[eventsource] reads SSE through EventSource with the token and cursor in the query', async () => {
    FetchEventSource.urls.length = 0;
    const client = track(
      createClient({
        url: t.url,
        transport: 'sse',
        sseReader: 'eventsource',
        EventSource: FetchEventSource,
        eventTypes: ['tick'],
        getToken: () => t.token('kim', { topics: ['feed.*'] }),
        reconnect: fast,
      }),
    );
    const feed: number[] = [];
    const inbox: number[] = [];
    await client.connect();
    await client.subscribe<{ n: number }>('feed.es', (event) => feed.push(event.n));
    // Registered before the kills, so every later stream listens to this type too.
    client.on<{ n: number }>('inbox.item', (event) => inbox.push(event.n));
    const published = await publishThroughKills(t, client, 'feed.es', 'kim', () => feed.length, 2);
    await until('every event', () => feed.length >= published && inbox.length >= published);
    expect(feed).toEqual(range(1, published));
    expect(inbox).toEqual(range(inbox[0]!, published));
    const resumed = FetchEventSource.urls
      .map((url) => new URL(url).searchParams)
      .filter((q) => q.get('token') && /feed\.es=\d+/.test(q.get('lastEventId') ?? ''));
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    client.close();
  });

  it('[sse] streams events and resumes with Last-Event-ID after the server ends the stream', async () => {
    const sent: string[] = [];
    const recordingFetch: FetchLike = (url, init) => {
      sent.push(init.headers['last-event-id'] ?? '');
      return fetch(url, init);
    };
    const client = track(
      createClient({
        url: t.url,
        transport: 'sse',
        getToken: () => t.token('gus', { topics: ['feed.*'] }),
        fetch: recordingFetch,
        reconnect: fast,
      }),
    );
    const states = recordStates(client);
    const feed: number[] = [];
    const inbox: number[] = [];
    await client.connect();
    expect(states.at(-1)).toEqual({ state: 'open', userId: 'gus' });
    await client.subscribe<{ n: number }>('feed.sse', (event) => feed.push(event.n));
    client.on<{ n: number }>('inbox.item', (event) => inbox.push(event.n));
    await expect(client.request('ping')).rejects.toMatchObject({ code: 'not_supported' });

    const published = await publishThroughKills(t, client, 'feed.sse', 'gus', () => feed.length, 3);
    await until('every event', () => feed.length >= published && inbox.length >= published);
    expect(feed).toEqual(range(1, published));
    expect(inbox).toEqual(range(1, published));
    const resumed = sent.filter((id) => /feed\.sse=\d+/.test(id) && /user\.gus=\d+/.test(id));
    expect(resumed.length).toBeGreaterThanOrEqual(3);
    client.close();
  });
});
