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
   * known (and for topics without history). Most connections have two (their user's topic and
   * `broadcast`): the first two are fields, the rest a map made for the third. A map of two
   * entries cost 184 bytes, most of what an idle connection held beyond the socket itself.
   */
  private topic0: string | undefined = undefined;
  private position0 = NO_POSITION;
  private topic1: string | undefined = undefined;
  private position1 = NO_POSITION;
  private moreTopics: Map<string, number> | undefined = undefined;
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
    return topic === this.topic0 || topic === this.topic1 || !!this.moreTopics?.has(topic);
  }

  *subscribedTopics(): IterableIterator<string> {
    if (this.topic0 !== undefined) yield this.topic0;
    if (this.topic1 !== undefined) yield this.topic1;
    if (this.moreTopics) yield* [...this.moreTopics.keys()];
  }

  /** Adds `topic` without a position; a topic subscribed already keeps its position. */
  addTopic(topic: string): void {
    if (this.isSubscribed(topic)) return;
    if (this.topic0 === undefined) {
      this.topic0 = topic;
      this.position0 = NO_POSITION;
    } else if (this.topic1 === undefined) {
      this.topic1 = topic;
      this.position1 = NO_POSITION;
    } else {
      (this.moreTopics ??= new Map()).set(topic, NO_POSITION);
    }
  }

  /** Removes `topic` and its position; false when it was not subscribed. */
  removeTopic(topic: string): boolean {
    if (topic === this.topic0) {
      this.topic0 = undefined;
      this.position0 = NO_POSITION;
      return true;
    }
    if (topic === this.topic1) {
      this.topic1 = undefined;
      this.position1 = NO_POSITION;
      return true;
    }
    if (!this.moreTopics?.delete(topic)) return false;
    if (this.moreTopics.size === 0) this.moreTopics = undefined;
    return true;
  }

  clearTopics(): void {
    this.topic0 = this.topic1 = undefined;
    this.position0 = this.position1 = NO_POSITION;
    this.moreTopics = undefined;
  }

  /** The newest seq sent to this client on `topic`, if known. */
  position(topic: string): number | undefined {
    const position =
      topic === this.topic0
        ? this.position0
        : topic === this.topic1
          ? this.position1
          : (this.moreTopics?.get(topic) ?? NO_POSITION);
    return position === NO_POSITION ? undefined : position;
  }

  /** Records the newest seq sent on `topic`; ignored once `topic` is unsubscribed. */
  setPosition(topic: string, seq: number): void {
    if (topic === this.topic0) this.position0 = seq;
    else if (topic === this.topic1) this.position1 = seq;
    else if (this.moreTopics?.has(topic)) this.moreTopics.set(topic, seq);
  }

  /** Every known position, by topic (a copy). */
  positions(): Map<string, number> {
    const known = new Map<string, number>();
    if (this.topic0 !== undefined && this.position0 !== NO_POSITION) {
      known.set(this.topic0, this.position0);
    }
    if (this.topic1 !== undefined && this.position1 !== NO_POSITION) {
      known.set(this.topic1, this.position1);
    }
    if (this.moreTopics) {
      for (const [topic, position] of this.moreTopics) {
        if (position !== NO_POSITION) known.set(topic, position);
      }
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
