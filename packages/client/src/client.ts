// The client core: connection lifecycle (connect, backoff, token refresh, close codes), topic
// subscriptions and typed event dispatch. Transports are drivers it makes per connection, so the
// same ordering and resume logic serves WebSocket and SSE.
import { topicSchema, type EventFrame, type ResyncRequiredFrame } from '@switchboard/protocol';
import { backoffDelay, resolveReconnectOptions, type ResolvedReconnectOptions } from './backoff.js';
import { ClientError } from './errors.js';
import { SeqTracker } from './seq-tracker.js';
import { SseDriver } from './sse-driver.js';
import type {
  ClientEvent,
  ClientOptions,
  Clock,
  ConnectedInfo,
  ConnectionState,
  DriverHost,
  EventHandler,
  Reply,
  ResyncInfo,
  StateChange,
  SwitchboardClient,
  Unsubscribe,
  WebSocketConstructor,
} from './types.js';
import { WsDriver } from './ws-driver.js';

/** The WebSocket endpoint, relative to the server's base URL. */
export const WS_PATH = '/api/v1/ws';
/** The SSE endpoint, relative to the server's base URL. */
export const SSE_PATH = '/api/v1/events/stream';

type AnyHandler = (event: ClientEvent) => void;
type Driver = WsDriver | SseDriver;

const defaultClock: Clock = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The endpoint URL for a transport: the base URL's scheme switched to ws(s) or http(s). */
function endpoint(base: string, transport: 'ws' | 'sse'): string {
  const url = new URL(base);
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  url.protocol = transport === 'ws' ? (secure ? 'wss:' : 'ws:') : secure ? 'https:' : 'http:';
  url.pathname = url.pathname.replace(/\/+$/, '') + (transport === 'ws' ? WS_PATH : SSE_PATH);
  return url.toString();
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

class Client implements SwitchboardClient {
  private current: ConnectionState = 'idle';
  private readonly tracker = new SeqTracker();
  private readonly topics = new Map<string, Set<AnyHandler>>();
  private readonly typeHandlers = new Map<string, Set<AnyHandler>>();
  private readonly stateListeners = new Set<(change: StateChange) => void>();
  private readonly resyncListeners = new Set<(topic: string, info: ResyncInfo) => void>();
  private readonly errorListeners = new Set<(error: Error) => void>();
  private readonly connectedListeners = new Set<(info: ConnectedInfo) => void>();
  private readonly subscribedListeners = new Set<(positions: Record<string, number>) => void>();
  private readonly unsubscribedListeners = new Set<(topics: string[]) => void>();
  /** Topics the server subscribed this client to on its own; it resumes them at authentication. */
  private serverSide = new Set<string>();
  private openWaiters: Array<{ resolve(): void; reject(error: Error): void }> = [];
  private driver: Driver | undefined;
  private driverOpen = false;
  private attempt = 0;
  private reconnectTimer: unknown;
  private lastToken: string | undefined;
  private needNewToken = false;
  private userId: string | undefined;
  /** Bumped whenever a connection is started or the client closes; stale async work checks it. */
  private generation = 0;
  private readonly sseCursor: { value?: string } = {};
  private readonly reconnect: ResolvedReconnectOptions;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: ClientOptions) {
    if ((options.token === undefined) === (options.getToken === undefined)) {
      throw new TypeError('createClient: give exactly one of `token` and `getToken`');
    }
    new URL(options.url); // throws early on a malformed base URL
    this.reconnect = resolveReconnectOptions(options.reconnect);
    this.clock = options.clock ?? defaultClock;
    this.random = options.random ?? Math.random;
  }

  get state(): ConnectionState {
    return this.current;
  }

  connect(): Promise<void> {
    const opened = new Promise<void>((resolve, reject) =>
      this.openWaiters.push({ resolve, reject }),
    );
    if (this.current === 'open') this.settleWaiters();
    else if (this.current === 'idle' || this.current === 'closed') {
      this.attempt = 0;
      this.needNewToken = false;
      void this.start();
    }
    return opened;
  }

  close(): void {
    this.generation += 1;
    this.clock.clearTimeout(this.reconnectTimer);
    this.stopDriver();
    this.finish(
      { state: 'closed', code: 1000, reason: 'closed by the client' },
      new ClientError('closed', 'the client was closed'),
    );
  }

  async subscribe<T extends object = Record<string, unknown>>(
    topic: string,
    handler: EventHandler<T>,
  ): Promise<Unsubscribe> {
    const parsed = topicSchema.safeParse(topic);
    if (!parsed.success)
      throw new ClientError('invalid_request', `"${topic.slice(0, 100)}" is not a topic name`);
    const any = handler as unknown as AnyHandler;
    let handlers = this.topics.get(topic);
    const fresh = !handlers;
    if (!handlers) this.topics.set(topic, (handlers = new Set()));
    handlers.add(any);
    if (fresh) {
      try {
        await this.syncSubscribe(topic);
      } catch (err) {
        handlers.delete(any);
        if (handlers.size === 0 && this.topics.get(topic) === handlers) {
          this.topics.delete(topic);
          this.tracker.forget(topic);
        }
        throw err;
      }
    }
    return () => this.unsubscribe(topic, handler);
  }

  async unsubscribe(topic: string, handler?: EventHandler<never>): Promise<void> {
    const handlers = this.topics.get(topic);
    if (!handlers) return;
    if (handler) handlers.delete(handler as unknown as AnyHandler);
    else handlers.clear();
    if (handlers.size > 0) return;
    this.topics.delete(topic);
    // The server keeps these subscribed (the user's own topic, `broadcast`, a module's topics);
    // `on()` handlers still want their events.
    if (topic === 'broadcast' || topic === `user.${this.userId}` || this.serverSide.has(topic))
      return;
    this.tracker.forget(topic);
    const driver = this.driver;
    if (driver instanceof WsDriver && this.driverOpen) await driver.unsubscribe([topic]);
    else if (driver instanceof SseDriver && this.driverOpen) this.restart('unsubscribed');
  }

  on<T extends object = Record<string, unknown>>(
    type: string,
    handler: EventHandler<T>,
  ): () => void {
    const any = handler as unknown as AnyHandler;
    let handlers = this.typeHandlers.get(type);
    if (!handlers) this.typeHandlers.set(type, (handlers = new Set()));
    handlers.add(any);
    return () => {
      handlers.delete(any);
    };
  }

  onState(listener: (change: StateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  onResync(listener: (topic: string, info: ResyncInfo) => void): () => void {
    this.resyncListeners.add(listener);
    return () => {
      this.resyncListeners.delete(listener);
    };
  }

  onError(listener: (error: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => {
      this.errorListeners.delete(listener);
    };
  }

  onConnected(listener: (info: ConnectedInfo) => void): () => void {
    this.connectedListeners.add(listener);
    return () => {
      this.connectedListeners.delete(listener);
    };
  }

  onSubscribed(listener: (positions: Record<string, number>) => void): () => void {
    this.subscribedListeners.add(listener);
    return () => {
      this.subscribedListeners.delete(listener);
    };
  }

  onUnsubscribed(listener: (topics: string[]) => void): () => void {
    this.unsubscribedListeners.add(listener);
    return () => {
      this.unsubscribedListeners.delete(listener);
    };
  }

  serverTopics(): string[] {
    return [...this.serverSide];
  }

  async request(
    op: string,
    fields: Record<string, unknown> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<Reply> {
    if (this.transport !== 'ws')
      throw new ClientError('not_supported', 'requests need the WebSocket transport');
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 10_000;
    if (!this.driverOpen) await this.waitOpen(timeoutMs);
    const driver = this.driver;
    if (!(driver instanceof WsDriver)) throw new ClientError('disconnected', 'not connected');
    return driver.request({ ...fields, op }, timeoutMs);
  }

  positions(): Record<string, number> {
    return Object.fromEntries(this.tracker.positions());
  }

  // ---- lifecycle --------------------------------------------------------------------------

  private get transport(): 'ws' | 'sse' {
    return this.options.transport ?? 'ws';
  }

  private async start(): Promise<void> {
    const generation = ++this.generation;
    this.emit({ state: 'connecting', attempt: this.attempt });
    this.current = 'connecting';
    let token: string;
    try {
      token = this.options.getToken ? await this.options.getToken() : this.options.token!;
    } catch (err) {
      if (generation !== this.generation) return;
      this.report(asError(err));
      this.scheduleReconnect({ reason: 'getToken failed' });
      return;
    }
    if (generation !== this.generation) return;
    if (this.needNewToken && token === this.lastToken) {
      this.finish(
        { state: 'closed', code: 4001, reason: 'the token was refused and no new one came' },
        new ClientError('unauthorized', 'the token was refused'),
      );
      return;
    }
    this.needNewToken = false;
    this.lastToken = token;
    const host = this.makeHost(generation);
    // Topics the server subscribes by itself are resumed through the positions given at
    // authentication; naming them again would ask for ones it may have dropped meanwhile.
    const topics = [
      ...new Set([
        ...this.topics.keys(),
        ...[...this.tracker.positions().keys()].filter((topic) => !this.serverSide.has(topic)),
      ]),
    ];
    try {
      if (this.transport === 'ws') {
        const WebSocketImpl =
          this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
        if (!WebSocketImpl)
          throw new ClientError(
            'not_supported',
            'no WebSocket implementation: pass `WebSocket` (the `ws` package in Node 20)',
          );
        const driver = new WsDriver(host, {
          url: endpoint(this.options.url, 'ws'),
          WebSocket: WebSocketImpl,
          authIn: this.options.authIn ?? 'frame',
          requestTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
          pingIntervalMs: this.options.pingIntervalMs ?? 25_000,
          pongTimeoutMs: this.options.pongTimeoutMs ?? 10_000,
          clock: this.clock,
        });
        this.driver = driver;
        driver.start(token, topics, this.tracker.positions());
      } else {
        const fetchImpl =
          this.options.fetch ?? (globalThis as { fetch?: ClientOptions['fetch'] }).fetch;
        const EventSourceImpl =
          this.options.EventSource ??
          (globalThis as { EventSource?: ClientOptions['EventSource'] }).EventSource;
        const reader = this.options.sseReader ?? (fetchImpl ? 'fetch' : 'eventsource');
        const driver = new SseDriver(
          host,
          {
            url: endpoint(this.options.url, 'sse'),
            reader,
            ...(fetchImpl ? { fetch: fetchImpl } : {}),
            ...(EventSourceImpl ? { EventSource: EventSourceImpl } : {}),
            eventTypes: this.options.eventTypes ?? [],
          },
          this.sseCursor,
        );
        this.driver = driver;
        driver.start(token, topics, this.tracker.positions());
      }
    } catch (err) {
      this.finish(
        { state: 'closed', reason: asError(err).message, error: asError(err) },
        asError(err),
      );
    }
  }

  private makeHost(generation: number): DriverHost {
    const live = () => generation === this.generation;
    return {
      opened: (info) => {
        if (!live()) return;
        this.driverOpen = true;
        this.attempt = 0;
        if (info.userId !== undefined) this.userId = info.userId;
        if (this.current !== 'open') {
          this.current = 'open';
          this.emit({ state: 'open', ...info });
        }
        this.settleWaiters();
      },
      authenticated: (info) => {
        if (!live()) return;
        this.userId = info.userId;
        const now = new Set(Object.keys(info.positions));
        for (const topic of this.serverSide) {
          if (!now.has(topic) && !this.topics.has(topic)) this.tracker.forget(topic);
        }
        this.serverSide = now;
        this.baselineAll(info.positions);
        this.notify(this.connectedListeners, info);
      },
      subscribedByServer: (positions) => {
        if (!live()) return;
        for (const topic of Object.keys(positions)) this.serverSide.add(topic);
        this.baselineAll(positions);
        this.notify(this.subscribedListeners, positions);
      },
      unsubscribedByServer: (topics) => {
        if (!live()) return;
        for (const topic of topics) {
          this.serverSide.delete(topic);
          if (!this.topics.has(topic)) this.tracker.forget(topic);
        }
        this.notify(this.unsubscribedListeners, topics);
      },
      baseline: (positions) => {
        if (live()) this.baselineAll(positions);
      },
      event: (frame) => {
        if (live()) this.deliver(this.tracker.accept(frame).deliver);
      },
      resync: (frame) => {
        if (live()) this.onResyncFrame(frame);
      },
      error: (error) => {
        if (live()) this.report(error);
      },
      dropped: (drop) => {
        if (!live()) return;
        this.driver = undefined;
        this.driverOpen = false;
        const close = {
          ...(drop.code === undefined ? {} : { code: drop.code }),
          ...(drop.reason === undefined ? {} : { reason: drop.reason }),
        };
        if (drop.kind === 'fatal') {
          const error =
            drop.error ??
            new ClientError('closed', drop.reason ?? 'the server closed the connection');
          this.finish({ state: 'closed', ...close, error }, error);
        } else if (drop.kind === 'auth') {
          if (!this.options.getToken) {
            const error =
              drop.error ?? new ClientError('unauthorized', drop.reason ?? 'the token was refused');
            this.finish({ state: 'closed', ...close, error }, error);
            return;
          }
          this.needNewToken = true;
          this.scheduleReconnect(close);
        } else {
          this.scheduleReconnect(close, drop.kind === 'resume');
        }
      },
      gapAfter: (topic) => this.tracker.gapAfter(topic),
      gaps: () => this.tracker.gaps(),
      denied: (topic, error) => {
        if (!live()) return;
        this.topics.delete(topic);
        this.tracker.forget(topic);
        this.report(error);
      },
      eventTypes: () => [...this.typeHandlers.keys()].filter((t) => t !== '*'),
    };
  }

  private scheduleReconnect(close: { code?: number; reason?: string }, immediately = false): void {
    this.generation += 1;
    const delayMs = immediately ? 0 : backoffDelay(this.attempt, this.reconnect, this.random);
    this.attempt += 1;
    this.current = 'reconnecting';
    this.emit({ state: 'reconnecting', attempt: this.attempt, delayMs, ...close });
    const generation = this.generation;
    this.reconnectTimer = this.clock.setTimeout(() => {
      if (generation === this.generation) void this.start();
    }, delayMs);
  }

  /** Reconnects at once (SSE streams change topics this way). */
  private restart(reason: string): void {
    this.stopDriver();
    this.scheduleReconnect({ reason }, true);
  }

  private stopDriver(): void {
    this.driver?.stop();
    this.driver = undefined;
    this.driverOpen = false;
  }

  private finish(change: StateChange, error: Error): void {
    this.current = 'closed';
    this.emit(change);
    for (const waiter of this.openWaiters.splice(0)) waiter.reject(error);
  }

  private settleWaiters(): void {
    for (const waiter of this.openWaiters.splice(0)) waiter.resolve();
  }

  private waitOpen(timeoutMs: number): Promise<void> {
    if (this.current === 'idle' || this.current === 'closed') {
      return Promise.reject(new ClientError('disconnected', 'not connected; call connect() first'));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.openWaiters = this.openWaiters.filter((w) => w !== waiter);
        reject(new ClientError('timeout', `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          this.clock.clearTimeout(timer);
          reject(error);
        },
      };
      this.openWaiters.push(waiter);
    });
  }

  private async syncSubscribe(topic: string): Promise<void> {
    for (;;) {
      const driver = this.driver;
      if (driver && this.driverOpen) {
        if (driver.covers(topic)) return;
        if (driver instanceof WsDriver) {
          await driver.subscribe([topic], this.tracker.positions());
          return;
        }
        // A stream's topics are fixed when it opens: open another one from the current cursor.
        this.restart('subscribed');
      }
      // Not connected yet: a connection opening now may have started without this topic.
      if (this.current === 'idle' || this.current === 'closed') return;
      await this.waitOpen(this.options.requestTimeoutMs ?? 10_000);
    }
  }

  // ---- delivery ---------------------------------------------------------------------------

  private baselineAll(positions: Record<string, unknown>): void {
    for (const [topic, seq] of Object.entries(positions)) {
      if (typeof seq === 'number') this.deliver(this.tracker.baseline(topic, seq).deliver);
    }
  }

  private notify<T>(listeners: ReadonlySet<(value: T) => void>, value: T): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (err) {
        this.report(asError(err));
      }
    }
  }

  private onResyncFrame(frame: ResyncRequiredFrame): void {
    const { op: _op, ...info } = frame;
    const result = this.tracker.resync(frame.topic, frame.latest);
    for (const listener of this.resyncListeners) {
      try {
        listener(frame.topic, info);
      } catch (err) {
        this.report(asError(err));
      }
    }
    this.deliver(result.deliver);
    if (result.gap) this.driver?.fillGap(frame.topic);
  }

  private deliver(frames: readonly EventFrame[]): void {
    for (const frame of frames) {
      const { op: _op, ...event } = frame;
      const handlers = [
        ...(this.topics.get(frame.topic) ?? []),
        ...(this.typeHandlers.get(frame.type) ?? []),
        ...(this.typeHandlers.get('*') ?? []),
      ];
      for (const handler of handlers) {
        try {
          handler(event);
        } catch (err) {
          this.report(asError(err));
        }
      }
    }
  }

  private report(error: Error): void {
    for (const listener of this.errorListeners) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }

  private emit(change: StateChange): void {
    for (const listener of this.stateListeners) {
      try {
        listener(change);
      } catch (err) {
        this.report(asError(err));
      }
    }
  }
}

/**
 * Creates a Switchboard client. It does not connect until {@link SwitchboardClient.connect}.
 *
 * @example
 * const client = createClient({ url: 'https://chat.example.com', getToken: fetchAccessToken });
 * await client.connect();
 * await client.subscribe('chat.channel.42', (event) => render(event));
 */
export function createClient(options: ClientOptions): SwitchboardClient {
  return new Client(options);
}
