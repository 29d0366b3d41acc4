// The Server-Sent Events driver: one stream of GET /api/v1/events/stream, read with fetch
// streaming (every event, Authorization header) or EventSource (browsers without streaming
// fetch). Every (re)connect sends the cursor of what the application has seen as Last-Event-ID,
// so the server replays exactly the events after it.
import {
  connectedFrame,
  decodeCursor,
  encodeCursor,
  subscribedFrame,
  unsubscribedFrame,
  type EventFrame,
  type ResyncRequiredFrame,
} from '@switchboard/protocol';
import { ClientError } from './errors.js';
import { SseParser, type SseMessage } from './sse-parser.js';
import type { DriverHost, EventSourceConstructor, EventSourceLike, FetchLike } from './types.js';

/** Options of an {@link SseDriver}. */
export interface SseDriverOptions {
  url: string;
  reader: 'fetch' | 'eventsource';
  fetch?: FetchLike;
  EventSource?: EventSourceConstructor;
  /** Event types EventSource listens to besides those the application registered. */
  eventTypes: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One SSE stream; a new driver is made for every reconnect. */
export class SseDriver {
  private stopped = false;
  private controller: AbortController | undefined;
  private source: EventSourceLike | undefined;
  private closeReason: string | undefined;
  private readonly topics = new Set<string>();

  /**
   * @param host - the client core
   * @param options - endpoint and implementation
   * @param cursor - the server cursor seen last, kept across reconnects by the core
   */
  constructor(
    private readonly host: DriverHost,
    private readonly options: SseDriverOptions,
    private readonly cursor: { value?: string },
  ) {}

  /**
   * Opens the stream for `topics` besides those the server subscribes by itself (the user's own,
   * `broadcast`, modules' topics), resuming all of them after `positions`.
   */
  start(token: string, topics: readonly string[], positions: ReadonlyMap<string, number>): void {
    for (const topic of topics) this.topics.add(topic);
    const url = new URL(this.options.url);
    if (topics.length > 0) url.searchParams.set('topics', topics.join(','));
    const lastEventId = this.lastEventId(positions);
    if (this.options.reader === 'eventsource') {
      this.openEventSource(url, token, lastEventId);
    } else {
      this.openFetch(url, token, lastEventId).catch((err: unknown) => {
        if (this.stopped) return;
        this.drop({ kind: 'retry', reason: err instanceof Error ? err.message : String(err) });
      });
    }
  }

  /** Whether this stream carries the topic (named when it opened). */
  covers(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Ends the stream without reporting back. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.controller?.abort();
    this.source?.close();
  }

  /** A gap cannot be filled on a stream: reconnect at once from the last position seen. */
  fillGap(topic: string): void {
    if (this.stopped || this.host.gapAfter(topic) === undefined) return;
    this.drop({ kind: 'resume', reason: `missing events on ${topic}` });
  }

  /**
   * The server's last cursor with each topic moved back to what the application has seen
   * (events held behind a gap were not seen and must come again).
   */
  private lastEventId(positions: ReadonlyMap<string, number>): string | undefined {
    const merged = new Map(
      this.cursor.value === undefined ? [] : (decodeCursor(this.cursor.value) ?? []),
    );
    for (const [topic, seq] of positions) merged.set(topic, seq);
    return merged.size > 0 ? encodeCursor(merged) : undefined;
  }

  private async openFetch(url: URL, token: string, lastEventId: string | undefined): Promise<void> {
    const fetchImpl = this.options.fetch;
    if (!fetchImpl) throw new ClientError('not_supported', 'no fetch implementation for SSE');
    this.controller = new AbortController();
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
    };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await fetchImpl(url.toString(), { headers, signal: this.controller.signal });
    if (this.stopped) return;
    if (!response.ok || !response.body) {
      const { code, message } = await errorOf(response);
      if (this.stopped) return;
      const error = new ClientError(code, message);
      if (response.status === 401 || response.status === 403) {
        this.drop({ kind: 'auth', code: response.status, reason: message, error });
      } else if (response.status === 400 || response.status === 404) {
        this.drop({ kind: 'fatal', code: response.status, reason: message, error });
      } else {
        this.drop({ kind: 'retry', code: response.status, reason: message });
      }
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.stopped) return;
        if (done) break;
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          this.handle(message);
          if (this.stopped) return;
        }
      }
    } finally {
      if (this.stopped) reader.cancel().catch(() => undefined);
    }
    this.drop({ kind: 'retry', reason: this.closeReason ?? 'the stream ended' });
  }

  private openEventSource(url: URL, token: string, lastEventId: string | undefined): void {
    const EventSourceImpl = this.options.EventSource;
    if (!EventSourceImpl) {
      this.drop({
        kind: 'fatal',
        error: new ClientError('not_supported', 'no EventSource implementation'),
      });
      return;
    }
    // EventSource cannot send headers: the token and cursor go in the query, which the server reads.
    url.searchParams.set('token', token);
    if (lastEventId !== undefined) url.searchParams.set('lastEventId', lastEventId);
    const source = new EventSourceImpl(url.toString());
    this.source = source;
    const types = new Set([
      'connected',
      'subscribed',
      'unsubscribed',
      'resync_required',
      'close',
      'message',
      ...this.options.eventTypes,
      ...this.host.eventTypes(),
    ]);
    for (const type of types) {
      source.addEventListener(type, (event) => {
        if (this.stopped) return;
        const message: SseMessage = { event: type, data: event.data };
        if (event.lastEventId) message.id = event.lastEventId;
        this.handle(message);
      });
    }
    // The browser would reconnect by itself, but without our cursor and backoff: take over.
    source.onerror = () => {
      if (!this.stopped)
        this.drop({ kind: 'retry', reason: this.closeReason ?? 'the stream failed' });
    };
  }

  private handle(message: SseMessage): void {
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      this.host.error(
        new ClientError('bad_reply', `the server sent ${message.event} data that is not JSON`),
      );
      return;
    }
    if (!isRecord(data)) return;
    switch (data.op) {
      case 'connected': {
        if (message.id !== undefined) this.cursor.value = message.id;
        const parsed = connectedFrame.safeParse(data);
        // Positions from the cursor when the server sent only the stream's topics.
        const positions = parsed.success
          ? parsed.data.positions
          : Object.fromEntries(decodeCursor(message.id ?? '') ?? []);
        const userId = typeof data.userId === 'string' ? data.userId : undefined;
        for (const topic of Object.keys(positions)) this.topics.add(topic);
        if (userId !== undefined) {
          this.host.authenticated({ userId, positions, transport: 'sse' });
        } else {
          this.host.baseline(positions);
        }
        this.host.opened(userId === undefined ? {} : { userId });
        for (const topic of this.host.gaps()) this.fillGap(topic);
        return;
      }
      case 'subscribed': {
        const parsed = subscribedFrame.safeParse(data);
        if (!parsed.success) return;
        if (message.id !== undefined) this.cursor.value = message.id;
        for (const topic of Object.keys(parsed.data.positions)) this.topics.add(topic);
        this.host.subscribedByServer(parsed.data.positions);
        return;
      }
      case 'unsubscribed': {
        const parsed = unsubscribedFrame.safeParse(data);
        if (!parsed.success) return;
        if (message.id !== undefined) this.cursor.value = message.id;
        for (const topic of parsed.data.topics) this.topics.delete(topic);
        this.host.unsubscribedByServer(parsed.data.topics);
        return;
      }
      case 'event':
        if (typeof data.topic === 'string' && typeof data.type === 'string') {
          if (message.id !== undefined) this.cursor.value = message.id;
          this.host.event(data as unknown as EventFrame);
          this.fillGap(data.topic);
        }
        return;
      case 'resync_required':
        if (typeof data.topic === 'string' && typeof data.latest === 'number') {
          this.host.resync(data as unknown as ResyncRequiredFrame);
        }
        return;
      case 'close':
        this.closeReason =
          typeof data.reason === 'string' ? data.reason : 'server closed the stream';
        return;
      default:
        return;
    }
  }

  private drop(drop: Parameters<DriverHost['dropped']>[0]): void {
    this.stop();
    this.host.dropped(drop);
  }
}

async function errorOf(response: {
  status: number;
  text(): Promise<string>;
}): Promise<{ code: string; message: string }> {
  const fallback = {
    code: response.status === 401 ? 'unauthorized' : 'http_error',
    message: `HTTP ${response.status}`,
  };
  try {
    const body = JSON.parse(await response.text()) as unknown;
    if (isRecord(body) && isRecord(body.error)) {
      return {
        code: typeof body.error.code === 'string' ? body.error.code : fallback.code,
        message: typeof body.error.message === 'string' ? body.error.message : fallback.message,
      };
    }
  } catch {
    // Not a JSON error body (a proxy's page): the status says enough.
  }
  return fallback;
}
