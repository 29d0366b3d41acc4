// Switchboard TypeScript SDK for browsers and Node.js: WebSocket and SSE transports, reconnect
// with backoff, and resume so an application sees every event exactly once, in order.
// Node 20 has no global WebSocket: use `createNodeClient` from `./node.js`, or pass `WebSocket`.
export { PROTOCOL_VERSION } from '@switchboard/protocol';
export { backoffDelay, resolveReconnectOptions } from './backoff.js';
export type { ReconnectOptions, ResolvedReconnectOptions } from './backoff.js';
export { createClient, SSE_PATH, WS_PATH } from './client.js';
export { ClientError } from './errors.js';
export type { ClientSideCode } from './errors.js';
export { SeqTracker } from './seq-tracker.js';
export type { TrackResult } from './seq-tracker.js';
export { SseParser } from './sse-parser.js';
export type { SseMessage } from './sse-parser.js';
export type {
  ClientEvent,
  ClientOptions,
  Clock,
  ConnectedInfo,
  CloseEventLike,
  ConnectionState,
  EventHandler,
  EventSourceConstructor,
  EventSourceLike,
  FetchLike,
  FetchResponseLike,
  Reply,
  ResyncInfo,
  StateChange,
  SwitchboardClient,
  Unsubscribe,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
