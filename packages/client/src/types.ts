// The client's public types and the minimal shapes of the platform objects it uses, so that the
// browser's globals, Node's `ws` and test doubles all fit without DOM typings.
import type { EventFrame, ResyncRequiredFrame } from '@switchboard/protocol';
import type { ReconnectOptions } from './backoff.js';

/** A close event as a WebSocket reports it. */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/** The part of the WebSocket API the client uses (the browser's, `ws`'s, or any look-alike). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // Handlers take `never` so that every implementation's own event types fit; the client reads
  // only `data` of message events and `code`/`reason` of close events.
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `ws` in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The part of the EventSource API the client uses. */
export interface EventSourceLike {
  readonly readyState: number;
  close(): void;
  addEventListener(
    type: string,
    listener: (event: { data: string; lastEventId: string }) => void,
  ): void;
  onerror: ((event: never) => void) | null;
}

/** An EventSource constructor (browsers; `withCredentials` is not needed with query tokens). */
export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** The part of a fetch Response the client reads. */
export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array }>;
      cancel(): Promise<void>;
    };
  } | null;
  text(): Promise<string>;
}

/** A fetch implementation with streaming response bodies (browsers, Node 20). */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<FetchResponseLike>;

/** Timers, injectable so tests control time. */
export interface Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The server's base URL (`https://chat.example.com`, `ws://localhost:3000`); endpoints are derived from it. */
  url: string;
  /** A fixed access token. Give this or `getToken`. */
  token?: string;
  /**
   * Returns an access token; called on every connect and reconnect, so an expired token is
   * replaced. After an authentication failure the client reconnects only if this returns a
   * different token.
   */
  getToken?: () => string | Promise<string>;
  /** `ws` (default): WebSocket with requests and live subscriptions. `sse`: Server-Sent Events. */
  transport?: 'ws' | 'sse';
  /** WebSocket mode: send the token in the first `auth` frame (default) or as `?token=`. */
  authIn?: 'frame' | 'query';
  /** WebSocket implementation; defaults to `globalThis.WebSocket` (pass `ws` in Node 20). */
  WebSocket?: WebSocketConstructor;
  /** EventSource implementation, used for SSE when `sseReader` is `eventsource`. */
  EventSource?: EventSourceConstructor;
  /** fetch implementation, used for SSE streaming; defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /**
   * How SSE is read. `fetch` (default when fetch exists) streams the body and sees every event;
   * `eventsource` uses EventSource, which only delivers event types someone listens to (those
   * passed to `on()` and in `eventTypes`).
   */
  sseReader?: 'fetch' | 'eventsource';
  /** EventSource mode: event types to listen to besides those passed to `on()`. */
  eventTypes?: readonly string[];
  /** Reconnect delays (exponential backoff with jitter). */
  reconnect?: ReconnectOptions;
  /** How long a request waits for its reply, in milliseconds. Default 10 000. */
  requestTimeoutMs?: number;
  /** WebSocket mode: an application-level `ping` this often, in milliseconds (0: never). Default 25 000. */
  pingIntervalMs?: number;
  /** WebSocket mode: no `pong` within this long closes the socket and reconnects. Default 10 000. */
  pongTimeoutMs?: number;
  /** Returns a number in [0, 1) for jitter; defaults to `Math.random`. */
  random?: () => number;
  /** Timers; defaults to the global ones. */
  clock?: Clock;
}

/** The connection's lifecycle. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A change of connection state, as {@link SwitchboardClient.onState} reports it. */
export type StateChange =
  | { state: 'connecting'; attempt: number }
  | { state: 'open'; userId?: string }
  | {
      state: 'reconnecting';
      /** 1 for the first reconnect after a drop, then 2, 3, ... until a connection opens. */
      attempt: number;
      delayMs: number;
      code?: number;
      reason?: string;
    }
  | { state: 'closed'; code?: number; reason?: string; error?: Error };

/**
 * What the server subscribed a connection to when it authenticated (the user's own topic,
 * `broadcast`, and modules' topics such as chat's channels), as {@link SwitchboardClient.onConnected}
 * reports it on every (re)connect.
 */
export interface ConnectedInfo {
  userId: string;
  /** Each topic with the seq the connection is at (after replaying what this client missed). */
  positions: Record<string, number>;
  transport: 'ws' | 'sse';
}

/** An event as handed to the application: the published fields plus `topic` and `seq`. */
export type ClientEvent<T extends object = Record<string, unknown>> = T & {
  type: string;
  topic: string;
  seq?: number;
};

/** Receives events. */
export type EventHandler<T extends object = Record<string, unknown>> = (
  event: ClientEvent<T>,
) => void;

/** What a `resync_required` frame tells the application: refetch state, then go on from `latest`. */
export type ResyncInfo = Omit<ResyncRequiredFrame, 'op'>;

/** Stops a subscription or listener. */
export type Unsubscribe = () => Promise<void>;

/** A reply to a request: the server's frame echoing the request's `op` and `id`. */
export type Reply = Record<string, unknown> & { op: string };

/** The Switchboard client. */
export interface SwitchboardClient {
  /** The current connection state. */
  readonly state: ConnectionState;
  /** Connects (and keeps reconnecting); resolves once the first connection is open. */
  connect(): Promise<void>;
  /** Closes for good: no more reconnects; pending requests fail. */
  close(): void;
  /**
   * Subscribes to a topic; the handler gets every event on it exactly once, in order, across
   * reconnects. Resolves once the server confirmed it, with a function that unsubscribes.
   */
  subscribe<T extends object = Record<string, unknown>>(
    topic: string,
    handler: EventHandler<T>,
  ): Promise<Unsubscribe>;
  /** Removes one handler of a topic, or all of them; the last one unsubscribes on the server. */
  unsubscribe(topic: string, handler?: EventHandler<never>): Promise<void>;
  /** Listens to events of one `type` on any topic (`*` for every event). Returns a remover. */
  on<T extends object = Record<string, unknown>>(
    type: string,
    handler: EventHandler<T>,
  ): () => void;
  /** Listens to connection state changes. Returns a remover. */
  onState(listener: (change: StateChange) => void): () => void;
  /** Listens to `resync_required`: events were lost beyond history; refetch the topic's state. */
  onResync(listener: (topic: string, info: ResyncInfo) => void): () => void;
  /** Listens to errors that have no caller to go to (error frames, throwing handlers). */
  onError(listener: (error: Error) => void): () => void;
  /**
   * Listens to every authentication of a connection: the topics the server subscribed it to on
   * its own, with their positions. Returns a remover.
   */
  onConnected(listener: (info: ConnectedInfo) => void): () => void;
  /**
   * Listens to topics the server subscribed the connection to later (chat: a channel joined),
   * each with the position it starts from; called before the event that caused it. Returns a
   * remover.
   */
  onSubscribed(listener: (positions: Record<string, number>) => void): () => void;
  /** Listens to topics the server unsubscribed the connection from (chat: a channel left). */
  onUnsubscribed(listener: (topics: string[]) => void): () => void;
  /**
   * Topics the server keeps this client subscribed to on its own (at authentication and since).
   * They are resumed on every reconnect and stay subscribed when their handlers are removed.
   */
  serverTopics(): string[];
  /**
   * Sends a frame with a fresh `id` and resolves with the reply (WebSocket only). Error replies
   * reject with a {@link ClientError} carrying the server's code.
   */
  request(
    op: string,
    fields?: Record<string, unknown>,
    options?: { timeoutMs?: number },
  ): Promise<Reply>;
  /** The last seq the application saw, per topic (every topic of the connection). */
  positions(): Record<string, number>;
}

/** Internal: what a transport driver reports to the client core. */
export interface DriverHost {
  opened(info: { userId?: string }): void;
  /**
   * The server authenticated the connection and subscribed it to these topics on its own; they
   * replace the previous connection's (topics it no longer has are forgotten).
   */
  authenticated(info: ConnectedInfo): void;
  /** The server subscribed the connection to more topics (a `subscribed` frame). */
  subscribedByServer(positions: Record<string, number>): void;
  /** The server unsubscribed the connection from topics (an `unsubscribed` frame). */
  unsubscribedByServer(topics: string[]): void;
  /** Positions the server says a subscription starts from (for topics not seen yet). */
  baseline(positions: Record<string, unknown>): void;
  event(frame: EventFrame): void;
  resync(frame: ResyncRequiredFrame): void;
  error(error: Error): void;
  /** The connection is gone. `auth`: refused credentials; `fatal`: do not retry; `resume`: retry now. */
  dropped(drop: {
    kind: 'retry' | 'auth' | 'fatal' | 'resume';
    code?: number;
    reason?: string;
    error?: Error;
  }): void;
  /** The last seq before a gap still open on the topic. */
  gapAfter(topic: string): number | undefined;
  /** Topics with a gap still open. */
  gaps(): string[];
  /** The server refused a topic while resubscribing; it is dropped. */
  denied(topic: string, error: Error): void;
  /** Event types the application listens to (EventSource needs them by name). */
  eventTypes(): string[];
}
