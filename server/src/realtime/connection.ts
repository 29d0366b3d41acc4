// A client connection as the hub sees it, whatever its transport.
import { randomUUID } from 'node:crypto';
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
  /**
   * What `render` makes of the event, made on first use: every sink that frames events with the
   * same function shares one result per node, as WebSocket sinks share `wsFrame`.
   */
  renderedBy<T>(render: (event: OutgoingEvent) => T): T;
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
  /**
   * True for a service's connection (an agent's stream) rather than a person's: it does not make
   * its user online. A user's connections are all of one kind.
   */
  readonly invisible?: boolean;
}

export interface ConnectionInfo {
  readonly id: string;
  readonly userId: string;
  readonly ip: string;
  readonly transport: 'ws' | 'sse';
  readonly connectedAt: number;
}

/** A subscribed topic's position before any is known. */
const NO_POSITION = -1;

/** Hub-side state of a connection. */
export class Connection implements ConnectionInfo {
  /**
   * The subscribed topics, each with the newest seq sent on it, or `NO_POSITION` while none is
   * known (and for topics without history). One map, not a set and a map: it is most of what an
   * idle connection holds.
   */
  private readonly subscriptions = new Map<string, number>();
  readonly connectedAt = Date.now();
  closed = false;
  /**
   * Topics being replayed from history (or waiting on an event reaction): live events wait here
   * until that is done. Made on first use and dropped when empty: an idle connection has none.
   */
  private catchingUp: Map<string, OutgoingEvent[]> | undefined = undefined;
  private uuid: string | undefined = undefined;

  constructor(
    readonly userId: string,
    readonly ip: string,
    readonly sink: ConnectionSink,
  ) {}

  /** A random id for logs, made when first asked for. */
  get id(): string {
    return (this.uuid ??= randomUUID());
  }

  get transport(): 'ws' | 'sse' {
    return this.sink.transport;
  }

  isSubscribed(topic: string): boolean {
    return this.subscriptions.has(topic);
  }

  subscribedTopics(): IterableIterator<string> {
    return this.subscriptions.keys();
  }

  /** Adds `topic` without a position; a topic subscribed already keeps its position. */
  addTopic(topic: string): void {
    if (!this.subscriptions.has(topic)) this.subscriptions.set(topic, NO_POSITION);
  }

  /** Removes `topic` and its position; false when it was not subscribed. */
  removeTopic(topic: string): boolean {
    return this.subscriptions.delete(topic);
  }

  clearTopics(): void {
    this.subscriptions.clear();
  }

  /** The newest seq sent to this client on `topic`, if known. */
  position(topic: string): number | undefined {
    const position = this.subscriptions.get(topic);
    return position === NO_POSITION ? undefined : position;
  }

  /** Records the newest seq sent on `topic`; ignored once `topic` is unsubscribed. */
  setPosition(topic: string, seq: number): void {
    if (this.subscriptions.has(topic)) this.subscriptions.set(topic, seq);
  }

  /** Every known position, by topic (a copy). */
  positions(): Map<string, number> {
    const known = new Map<string, number>();
    for (const [topic, position] of this.subscriptions) {
      if (position !== NO_POSITION) known.set(topic, position);
    }
    return known;
  }

  /** The live events held for `topic`, or undefined when its live events flow. */
  heldLive(topic: string): OutgoingEvent[] | undefined {
    return this.catchingUp?.get(topic);
  }

  /** Holds the live events of `topic` (starting with `events`) until `endHold`. */
  holdLive(topic: string, events: OutgoingEvent[] = []): OutgoingEvent[] {
    (this.catchingUp ??= new Map()).set(topic, events);
    return events;
  }

  /** Stops holding `topic`; returns what was held, in arrival order. */
  endHold(topic: string): OutgoingEvent[] {
    const held = this.catchingUp?.get(topic);
    if (!held) return [];
    this.catchingUp!.delete(topic);
    if (this.catchingUp!.size === 0) this.catchingUp = undefined;
    return held;
  }

  endAllHolds(): void {
    this.catchingUp = undefined;
  }
}
