// The hub: local connections, reference-counted topic subscriptions on the broker, and gap-free
// in-order delivery. It knows nothing about chat or the relay; they use its API.
import { SpanStatusCode } from '@opentelemetry/api';
import type { Broker, Delivery, HistoryOptions, HistoryPage } from '../broker/index.js';
import type { Logger, Metrics, Tracer } from '../observability/index.js';
import { Connection, type ConnectionSink, type OutgoingEvent } from './connection.js';
import { encodeEvent, eventFrame, eventTypeOf } from './event-encoding.js';
import { BROADCAST_TOPIC, userTopic } from './topics.js';

export interface HubOptions {
  broker: Broker;
  logger: Logger;
  /** History kept for every topic published through the hub (resume window). */
  history: HistoryOptions;
  /** Live events held for one connection while it replays history; over this it must resume. */
  maxCatchUpEvents?: number;
  /** Entries read from history per page while replaying. */
  historyPageSize?: number;
  metrics?: Metrics;
  /** Publish and deliver spans, when tracing is on. */
  tracer?: Tracer;
}

export interface ConnectionChange {
  kind: 'opened' | 'closed';
  connection: Connection;
  /** How many connections the user has on this node after the change. */
  userConnections: number;
}

/**
 * One connection, or a Set once there are several: most users have one connection and most user
 * topics one subscriber, and even an empty Set costs about 170 bytes.
 */
type Connections = Connection | Set<Connection>;

interface TopicState {
  subscribers: Connections;
  /** Resolves once the broker delivers this topic to the node; gone once it has. */
  ready: Promise<void> | undefined;
}

function countOf(connections: Connections | undefined): number {
  if (connections === undefined) return 0;
  return connections instanceof Set ? connections.size : 1;
}

type HubEvent = { type: string } & Record<string, unknown>;

/** Topics a module adds to every connection of a user at authentication (e.g. their channels). */
export type DefaultTopicsProvider = (userId: string) => Promise<readonly string[]>;

/** An event about to reach one connection, as an event reaction sees it. */
export interface ReactedEvent {
  readonly topic: string;
  readonly seq: number | undefined;
  readonly type: string;
  /** The event JSON as published. */
  readonly data: string;
}

/**
 * Runs before a matching event reaches a connection (live or replayed); the connection's later
 * events of that topic wait until it settles, so a reaction may change the connection's
 * subscriptions before the client sees the event that caused the change.
 */
export type EventReaction = (connection: Connection, event: ReactedEvent) => Promise<void>;

interface RegisteredReaction {
  readonly topicPrefix: string;
  readonly types: ReadonlySet<string>;
  readonly react: EventReaction;
}

/**
 * Where a durable topic's history lives (the database), instead of the broker's bounded stream.
 * Seqs of an owned topic are assigned by the source's writer, never by the broker.
 */
export interface HistorySource {
  owns(topic: string): boolean;
  read(topic: string, afterSeq: number, limit: number): Promise<HistoryPage>;
  /**
   * The current seq of each topic (0 before any event), in one read: the start positions of a
   * connection subscribing to many of them at once (a chat user's channels at connect).
   */
  heads?(topics: readonly string[]): Promise<ReadonlyMap<string, number>>;
}

/** A durable topic was published to directly; its events must go through the outbox. */
export class DurableTopicError extends Error {
  constructor(readonly topic: string) {
    super(`${topic} is a durable topic: publish through the outbox`);
    this.name = 'DurableTopicError';
  }
}

/** One object per delivery (closures would be three), its frame and type worked out on first use. */
class Outgoing implements OutgoingEvent {
  private frame: string | undefined = undefined;
  private eventType: string | undefined = undefined;
  private renderer: ((event: OutgoingEvent) => unknown) | undefined = undefined;
  private rendering: unknown = undefined;

  constructor(
    readonly topic: string,
    readonly seq: number | undefined,
    readonly data: string,
  ) {}

  wsFrame(): string {
    return (this.frame ??= eventFrame(this.topic, this.seq, this.data));
  }

  type(): string {
    return (this.eventType ??= eventTypeOf(this.data));
  }

  renderedBy<T>(render: (event: OutgoingEvent) => T): T {
    if (this.renderer !== render) {
      this.rendering = render(this);
      this.renderer = render;
    }
    return this.rendering as T;
  }
}

export function makeOutgoing(topic: string, seq: number | undefined, data: string): OutgoingEvent {
  return new Outgoing(topic, seq, data);
}

export class Hub {
  private readonly connections = new Set<Connection>();
  private readonly byUser = new Map<string, Connections>();
  private readonly topics = new Map<string, TopicState>();
  private readonly changeListeners = new Set<(change: ConnectionChange) => void>();
  /** Concurrent identical history reads (a reconnect storm) share one broker call. */
  private readonly historyReads = new Map<string, Promise<HistoryPage>>();
  private readonly headReads = new Map<string, Promise<number>>();
  private readonly historySources: HistorySource[] = [];
  private readonly reactions: RegisteredReaction[] = [];
  private reactionAsked: OutgoingEvent | undefined;
  private reactionFound: EventReaction | undefined;
  private defaultTopicsProvider: DefaultTopicsProvider | undefined;
  private readonly maxCatchUpEvents: number;
  private readonly historyPageSize: number;
  private readonly log: Logger;
  private stopListening: Array<() => void> = [];
  /** Events written per transport; plain integers, read by the metrics at scrape time. */
  private readonly sentBy = { ws: 0, sse: 0 };

  constructor(private readonly options: HubOptions) {
    this.maxCatchUpEvents = options.maxCatchUpEvents ?? 10_000;
    this.historyPageSize = options.historyPageSize ?? 500;
    this.log = options.logger;
  }

  start(): void {
    this.stopListening.push(
      this.options.broker.onMessage((delivery) => this.onDelivery(delivery)),
      this.options.broker.onStateChange((state) => {
        if (state === 'up') this.repairAfterBrokerOutage();
      }),
    );
  }

  stop(): void {
    for (const stop of this.stopListening.splice(0)) stop();
  }

  /** Durable topics' history is read from `source` from now on. */
  addHistorySource(source: HistorySource): void {
    this.historySources.push(source);
  }

  /** True when the topic's events are sequenced and kept by a history source (the outbox). */
  isDurable(topic: string): boolean {
    return this.historySources.some((source) => source.owns(topic));
  }

  // ---- connections ----------------------------------------------------------------------

  /** Registers a connection; the caller then subscribes it (see `subscribeDefaults`). */
  addConnection(userId: string, ip: string, sink: ConnectionSink): Connection {
    const connection = new Connection(userId, ip, sink);
    this.connections.add(connection);
    const mine = this.byUser.get(userId);
    if (mine === undefined) this.byUser.set(userId, connection);
    else if (mine instanceof Set) mine.add(connection);
    else this.byUser.set(userId, new Set([mine, connection]));
    this.emitChange({
      kind: 'opened',
      connection,
      userConnections: countOf(this.byUser.get(userId)),
    });
    return connection;
  }

  /** The topics every connection has: its user's own topic and the broadcast topic. */
  defaultTopics(userId: string): string[] {
    return [userTopic(userId), BROADCAST_TOPIC];
  }

  /** Adds a module's topics to those `subscribeDefaults` gives every connection (one provider). */
  useDefaultTopics(provider: DefaultTopicsProvider): void {
    if (this.defaultTopicsProvider) throw new Error('a default topics provider is set already');
    this.defaultTopicsProvider = provider;
  }

  /**
   * Subscribes a new connection to the default topics and the provider's, resuming those with a
   * position. Returns the position the client is now at on each of them.
   */
  async subscribeDefaults(
    connection: Connection,
    positions: ReadonlyMap<string, number> = new Map(),
  ): Promise<Record<string, number>> {
    const provider = this.defaultTopicsProvider;
    const core = this.defaultTopics(connection.userId);
    const first = provider ? await provider(connection.userId) : [];
    const result = await this.subscribe(connection, [...new Set([...core, ...first])], positions);
    if (!provider || connection.closed) return result;
    // A change committed while subscribing (a channel joined or left) has its event before the
    // start position of the topic that announces it, so it will never arrive: ask again.
    const second = new Set(await provider(connection.userId));
    const added = [...second].filter((t) => !connection.isSubscribed(t));
    const removed = first.filter((t) => !second.has(t) && !core.includes(t));
    this.unsubscribe(connection, removed);
    for (const topic of removed) delete result[topic];
    if (added.length > 0) Object.assign(result, await this.subscribe(connection, added));
    return result;
  }

  removeConnection(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    this.connections.delete(connection);
    for (const topic of connection.subscribedTopics()) this.detach(connection, topic);
    connection.clearTopics();
    connection.endAllHolds();
    const { userId } = connection;
    const mine = this.byUser.get(userId);
    if (mine === connection) {
      this.byUser.delete(userId);
    } else if (mine instanceof Set) {
      mine.delete(connection);
      // Nothing iterates these sets, so the last one left may take the set's place.
      if (mine.size === 0) this.byUser.delete(userId);
      else if (mine.size === 1) this.byUser.set(userId, mine.values().next().value!);
    }
    this.emitChange({
      kind: 'closed',
      connection,
      userConnections: countOf(this.byUser.get(userId)),
    });
  }

  observeConnections(listener: (change: ConnectionChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  connectedCount(): number {
    return this.connections.size;
  }

  userConnectionCount(userId: string): number {
    return countOf(this.byUser.get(userId));
  }

  /** Users with at least one connection on this node that counts for presence. */
  *presentUsers(): IterableIterator<string> {
    for (const [userId, connections] of this.byUser) {
      const one = connections instanceof Set ? connections.values().next().value : connections;
      if (one && !one.sink.invisible) yield userId;
    }
  }

  allConnections(): IterableIterator<Connection> {
    return this.connections.values();
  }

  /** Events written to connections so far, per transport. */
  sentCounts(): Readonly<{ ws: number; sse: number }> {
    return this.sentBy;
  }

  // ---- subscriptions --------------------------------------------------------------------

  /**
   * Subscribes a connection. With a position for a topic, first replays what it missed after
   * that seq (or sends `resync_required` when history no longer covers it); without one, starts
   * live from the topic's current seq. Returns the position the client is now at per topic.
   */
  async subscribe(
    connection: Connection,
    topics: readonly string[],
    positions: ReadonlyMap<string, number> = new Map(),
  ): Promise<Record<string, number>> {
    const fresh = topics.filter((t) => !connection.isSubscribed(t));
    for (const topic of fresh) {
      connection.addTopic(topic);
      // Live events that arrive before the start position is known wait in the catch-up queue.
      connection.holdLive(topic);
      this.attach(connection, topic);
    }
    await Promise.all(fresh.map((t) => this.topics.get(t)?.ready ?? Promise.resolve()));
    const heads = await this.readHeads(fresh.filter((topic) => !positions.has(topic)));
    const replays: Promise<void>[] = [];
    for (const topic of topics) {
      if (connection.closed || !connection.isSubscribed(topic)) continue;
      const from = positions.get(topic);
      if (from !== undefined) {
        replays.push(
          fresh.includes(topic)
            ? this.catchUp(connection, topic, from, true)
            : this.catchUp(connection, topic, from, false, true),
        );
      } else if (fresh.includes(topic)) {
        this.startLive(connection, topic, heads.get(topic) ?? 0);
      }
    }
    await Promise.all(replays);
    const result: Record<string, number> = {};
    for (const topic of topics) {
      if (connection.closed || !connection.isSubscribed(topic)) continue;
      result[topic] = connection.position(topic) ?? 0;
    }
    return result;
  }

  unsubscribe(connection: Connection, topics: readonly string[]): void {
    for (const topic of topics) {
      if (!connection.removeTopic(topic)) continue;
      connection.endHold(topic);
      this.detach(connection, topic);
    }
  }

  /**
   * Replays every listed topic after the given seqs (the `resume` op), resending events this
   * connection was sent already when the client's seq is behind.
   */
  async resume(connection: Connection, positions: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all(
      [...positions]
        .filter(([topic]) => connection.isSubscribed(topic))
        .map(([topic, from]) => this.catchUp(connection, topic, from, false, true)),
    );
  }

  /**
   * Calls `react` before each event of a type in `types` on a topic starting with `topicPrefix`
   * reaches a connection (see `EventReaction`). A failing reaction is logged; the event goes on.
   */
  reactTo(topicPrefix: string, types: readonly string[], react: EventReaction): void {
    this.reactions.push({ topicPrefix, types: new Set(types), react });
    this.reactionAsked = undefined;
  }

  // ---- publishing (the in-process API modules use) --------------------------------------

  /**
   * Publishes an event to a topic on every node; returns its seq in the topic's history. An
   * `ephemeral` event (typing) keeps no history and has no seq: it is never replayed.
   */
  async publish(
    topic: string,
    event: HubEvent,
    options: { ephemeral?: boolean } = {},
  ): Promise<{ seq?: number }> {
    if (this.isDurable(topic)) throw new DurableTopicError(topic);
    const history = options.ephemeral ? undefined : this.options.history;
    return this.traced('realtime.publish', { 'messaging.destination': topic }, () =>
      this.options.broker.publish(topic, encodeEvent(event), history),
    );
  }

  /**
   * Publishes an already encoded event of a durable topic with the seq its writer assigned; a
   * repeated seq (an at-least-once retry) is dropped by every connection that has it.
   */
  async publishSequenced(topic: string, seq: number, data: string): Promise<void> {
    await this.traced(
      'realtime.publish',
      { 'messaging.destination': topic, 'switchboard.seq': seq },
      async () => {
        await this.options.broker.publishSequenced(topic, seq, data);
        return {};
      },
    );
  }

  /** Publishes one event to each user's own topic, encoding it once. */
  async push(userIds: readonly string[], event: HubEvent): Promise<void> {
    const data = encodeEvent(event);
    await this.traced('realtime.push', { 'switchboard.users': userIds.length }, () =>
      Promise.all(
        userIds.map((id) => this.options.broker.publish(userTopic(id), data, this.options.history)),
      ),
    );
  }

  /** Publishes an event to every connection on every node. */
  async broadcast(event: HubEvent): Promise<{ seq?: number }> {
    return this.publish(BROADCAST_TOPIC, event);
  }

  /** Closes every connection (shutdown), telling clients to reconnect elsewhere. */
  closeAll(): void {
    for (const connection of [...this.connections]) {
      connection.sink.close('going_away_reconnect');
      this.removeConnection(connection);
    }
  }

  // ---- internals ------------------------------------------------------------------------

  /** Runs a publish inside a span when tracing is on; exactly the call otherwise. */
  private async traced<T extends { seq?: number } | unknown[]>(
    name: string,
    attributes: Record<string, string | number>,
    run: () => Promise<T>,
  ): Promise<T> {
    const tracer = this.options.tracer;
    if (!tracer) return run();
    const span = tracer.startSpan(name, { attributes });
    try {
      const result = await run();
      if (!Array.isArray(result) && result.seq !== undefined) {
        span.setAttribute('switchboard.seq', result.seq);
      }
      return result;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }

  private emitChange(change: ConnectionChange): void {
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err }, 'connection listener failed');
      }
    }
  }

  private attach(connection: Connection, topic: string): void {
    const state = this.topics.get(topic);
    if (state) {
      const { subscribers } = state;
      if (subscribers instanceof Set) subscribers.add(connection);
      else if (subscribers !== connection) state.subscribers = new Set([subscribers, connection]);
      return;
    }
    const created: TopicState = { subscribers: connection, ready: undefined };
    this.topics.set(topic, created);
    const ready = this.options.broker.subscribe([topic]).catch((err: unknown) => {
      // The broker re-subscribes wanted topics when it comes back; repair fills the gap.
      this.log.warn({ err, topic }, 'broker subscribe failed; will recover on reconnect');
    });
    created.ready = ready;
    void ready.then(() => {
      if (created.ready === ready) created.ready = undefined;
    });
  }

  private detach(connection: Connection, topic: string): void {
    const state = this.topics.get(topic);
    if (!state) return;
    const { subscribers } = state;
    // A set stays a set until it is empty: a delivery may be iterating it right now.
    const empty =
      subscribers instanceof Set
        ? subscribers.delete(connection) && subscribers.size === 0
        : subscribers === connection;
    if (empty) {
      this.topics.delete(topic);
      this.options.broker.unsubscribe([topic]).catch((err: unknown) => {
        this.log.warn({ err, topic }, 'broker unsubscribe failed');
      });
    }
  }

  /**
   * The heads of the topics: one read per history source that reads many at once, one read per
   * topic for the rest (and for a failed batch). A topic whose head cannot be read is left out:
   * it starts from live events.
   */
  private async readHeads(topics: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const heads = new Map<string, number>();
    await Promise.all(
      this.historySources.map(async (source) => {
        const owned = topics.filter((topic) => source.owns(topic));
        if (!source.heads || owned.length < 2) return;
        try {
          for (const [topic, seq] of await source.heads(owned)) heads.set(topic, seq);
        } catch (err) {
          this.log.warn({ err, topics: owned.length }, 'could not read topic heads together');
        }
      }),
    );
    const alone = topics.filter((topic) => !heads.has(topic));
    await Promise.all(
      alone.map((topic) =>
        this.readHead(topic).then(
          (seq) => void heads.set(topic, seq),
          (err: unknown) => {
            this.log.warn(
              { err, topic },
              'could not read the topic head; starting from live events',
            );
          },
        ),
      ),
    );
    return heads;
  }

  /** Live from `head` (the topic's head when subscribing), so nothing after it can be missed. */
  private startLive(connection: Connection, topic: string, head: number): void {
    const queued = connection.endHold(topic);
    connection.setPosition(topic, head);
    for (const event of queued) this.deliverTo(connection, event);
  }

  /** Replays history after `from`, then releases live events held meanwhile, in order. */
  private async catchUp(
    connection: Connection,
    topic: string,
    from: number,
    alreadyHolding = false,
    rewind = false,
  ): Promise<void> {
    if (!alreadyHolding) {
      if (connection.heldLive(topic)) return; // a replay is already running
      connection.holdLive(topic);
    }
    if (rewind) {
      // The client says what it has: a position behind ours means it lost events we sent (a
      // reconnect onto the topics subscribed at connect, a dropped frame), so send them again.
      const position = connection.position(topic);
      if (position !== undefined && from < position) connection.setPosition(topic, from);
    }
    let after = from;
    try {
      for (;;) {
        const page = await this.readHistory(topic, after, this.historyPageSize);
        if (connection.closed) return;
        if (!page.complete) {
          this.options.metrics?.resumes.inc({ result: 'resync_required' });
          connection.sink.sendFrame({
            op: 'resync_required',
            topic,
            from,
            latest: page.latestSeq,
            reason: after > page.latestSeq ? 'history_reset' : 'history_trimmed',
          });
          after = page.latestSeq;
          break;
        }
        for (const entry of page.entries) {
          const event = makeOutgoing(topic, entry.seq, entry.data);
          const reaction = this.reactionFor(event);
          if (reaction && entry.seq > (connection.position(topic) ?? 0)) {
            await this.react(connection, event, reaction);
            if (connection.closed || !connection.isSubscribed(topic)) return;
          }
          if (!this.send(connection, event)) return;
          after = entry.seq;
        }
        if (page.entries.length < this.historyPageSize) break;
      }
    } catch (err) {
      this.log.warn({ err, topic }, 'history unavailable during resume');
      connection.sink.close('internal_error', 'history unavailable; reconnect to resume');
      this.removeConnection(connection);
      return;
    }
    connection.setPosition(topic, Math.max(after, connection.position(topic) ?? 0));
    if (after > from) this.options.metrics?.resumes.inc({ result: 'resumed' });
    for (const event of connection.endHold(topic)) this.deliverTo(connection, event);
  }

  /** The topic's newest seq; concurrent reads of one topic (a reconnect storm) share one call. */
  private readHead(topic: string): Promise<number> {
    const source = this.historySources.find((s) => s.owns(topic));
    if (source) {
      return this.readHistory(topic, Number.MAX_SAFE_INTEGER, 1).then((page) => page.latestSeq);
    }
    let read = this.headReads.get(topic);
    if (!read) {
      read = this.options.broker.latestSeq(topic).finally(() => {
        this.headReads.delete(topic);
      });
      this.headReads.set(topic, read);
    }
    return read;
  }

  private readHistory(topic: string, after: number, limit: number): Promise<HistoryPage> {
    const key = `${topic}\n${after}\n${limit}`;
    let read = this.historyReads.get(key);
    if (!read) {
      const source = this.historySources.find((s) => s.owns(topic));
      read = (
        source
          ? source.read(topic, after, limit)
          : this.options.broker.readHistory(topic, after, limit)
      ).finally(() => {
        this.historyReads.delete(key);
      });
      this.historyReads.set(key, read);
    }
    return read;
  }

  private onDelivery(delivery: Delivery): void {
    const state = this.topics.get(delivery.topic);
    if (!state) return;
    const event = makeOutgoing(delivery.topic, delivery.seq, delivery.data);
    const { subscribers } = state;
    if (subscribers instanceof Set) {
      for (const connection of subscribers) this.deliverTo(connection, event);
    } else {
      this.deliverTo(subscribers, event);
    }
    const publishedAt = delivery.publishedAt;
    if (publishedAt === undefined) return;
    // Once per delivery per node, after every local socket was written to.
    this.options.metrics?.deliveryLatency.observe(Math.max(0, Date.now() - publishedAt) / 1000);
    this.options.tracer
      ?.startSpan('realtime.deliver', {
        startTime: publishedAt,
        attributes: {
          'messaging.destination': delivery.topic,
          'switchboard.subscribers': countOf(state.subscribers),
          ...(delivery.seq === undefined ? {} : { 'switchboard.seq': delivery.seq }),
        },
      })
      .end();
  }

  private deliverTo(connection: Connection, event: OutgoingEvent): void {
    if (connection.closed) return;
    const held = connection.heldLive(event.topic);
    if (held) {
      if (held.length >= this.maxCatchUpEvents) {
        this.closeSlow(connection);
        return;
      }
      held.push(event);
      return;
    }
    if (event.seq !== undefined) {
      const position = connection.position(event.topic);
      if (position !== undefined) {
        if (event.seq <= position) return; // already delivered (history and live overlap)
        if (event.seq > position + 1) {
          // Something between was missed (a lost publish); fill it from history first.
          connection.holdLive(event.topic, [event]);
          void this.catchUp(connection, event.topic, position, true);
          return;
        }
      }
    }
    const reaction = this.reactionFor(event);
    if (reaction) {
      this.reactThenSend(connection, event, reaction);
      return;
    }
    this.send(connection, event);
  }

  private reactionFor(event: OutgoingEvent): EventReaction | undefined {
    if (this.reactions.length === 0) return undefined;
    // Asked once per subscriber of a delivery: the answer for the same event is remembered.
    if (event === this.reactionAsked) return this.reactionFound;
    let found: EventReaction | undefined;
    for (const reaction of this.reactions) {
      if (event.topic.startsWith(reaction.topicPrefix) && reaction.types.has(event.type())) {
        found = reaction.react;
        break;
      }
    }
    this.reactionAsked = event;
    this.reactionFound = found;
    return found;
  }

  private async react(
    connection: Connection,
    event: OutgoingEvent,
    react: EventReaction,
  ): Promise<void> {
    try {
      await react(connection, {
        topic: event.topic,
        seq: event.seq,
        type: event.type(),
        data: event.data,
      });
    } catch (err) {
      this.log.warn(
        { err, topic: event.topic, connection: connection.id },
        'event reaction failed',
      );
    }
  }

  /** Holds the topic's later live events while the reaction runs, then sends them in order. */
  private reactThenSend(connection: Connection, event: OutgoingEvent, react: EventReaction): void {
    const held = connection.holdLive(event.topic);
    void this.react(connection, event, react).then(() => {
      // Unsubscribed or closed meanwhile: the held events are nobody's any more.
      if (connection.closed || connection.heldLive(event.topic) !== held) return;
      connection.endHold(event.topic);
      if (!this.send(connection, event)) return;
      for (const next of held) this.deliverTo(connection, next);
    });
  }

  private send(connection: Connection, event: OutgoingEvent): boolean {
    if (event.seq !== undefined) {
      const position = connection.position(event.topic);
      if (position !== undefined && event.seq <= position) return true;
    }
    if (!connection.sink.sendEvent(event)) {
      this.closeSlow(connection);
      return false;
    }
    if (event.seq !== undefined) connection.setPosition(event.topic, event.seq);
    this.sentBy[connection.sink.transport] += 1;
    return true;
  }

  private closeSlow(connection: Connection): void {
    this.log.info(
      {
        connection: connection.id,
        user: connection.userId,
        buffered: connection.sink.bufferedBytes(),
      },
      'closing slow consumer; it will resume',
    );
    this.options.metrics?.slowConsumers.inc();
    connection.sink.close('slow_consumer');
    this.removeConnection(connection);
  }

  /** After a broker outage, pull what each topic may have missed from history. */
  private repairAfterBrokerOutage(): void {
    for (const [topic, state] of this.topics) {
      const { subscribers } = state;
      for (const connection of subscribers instanceof Set ? subscribers : [subscribers]) {
        const position = connection.position(topic);
        if (position !== undefined && !connection.heldLive(topic)) {
          void this.catchUp(connection, topic, position);
        }
      }
    }
  }
}
