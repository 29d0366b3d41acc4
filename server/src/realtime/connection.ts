// A client connection as the hub sees it, whatever its transport.
import type { CloseCodeName } from '@switchboard/protocol';

/** One delivery prepared once per node and shared by every local subscriber. */
export interface OutgoingEvent {
  readonly topic: string;
  readonly seq: number | undefined;
  /** The event JSON as published. */
  readonly data: string;
  /** WebSocket frame text, built on first use. */
  wsFrame(): string;
  /** The event's type, read on first use. */
  type(): string;
}

export interface ConnectionSink {
  readonly transport: 'ws' | 'sse';
  /** Writes one event; returns false when the outgoing buffer is over its bound. */
  sendEvent(event: OutgoingEvent): boolean;
  /** Writes any other server frame (replies, errors, resync notices). */
  sendFrame(frame: Record<string, unknown>): boolean;
  /** Bytes queued for the client and not yet written to the socket. */
  bufferedBytes(): number;
  close(code: CloseCodeName, message?: string): void;
}

export interface ConnectionInfo {
  readonly id: string;
  readonly userId: string;
  readonly ip: string;
  readonly transport: 'ws' | 'sse';
  readonly connectedAt: number;
}

/** Hub-side state of a connection. */
export class Connection implements ConnectionInfo {
  readonly topics = new Set<string>();
  /** The newest seq sent to this client, per topic (only for topics with history). */
  readonly positions = new Map<string, number>();
  /** Topics being replayed from history: live events wait here until the replay is done. */
  readonly catchingUp = new Map<string, OutgoingEvent[]>();
  readonly connectedAt = Date.now();
  closed = false;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly ip: string,
    readonly sink: ConnectionSink,
  ) {}

  get transport(): 'ws' | 'sse' {
    return this.sink.transport;
  }
}
