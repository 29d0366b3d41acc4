// Redis Broker (ioredis): pub/sub across nodes plus bounded per-topic history in Redis Streams.
import type { Socket } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/index.js';
import {
  BrokerUnavailableError,
  type Broker,
  type BrokerState,
  type Delivery,
  type HistoryEntry,
  type HistoryPage,
} from './broker.js';

export interface RedisBrokerOptions {
  url: string;
  logger: Logger;
  /** `perconv`: one Redis channel per topic; `global`: one channel for all, filtered per node. */
  mode: 'perconv' | 'global';
  /** Prefix of every key and channel, so several deployments can share one Redis. */
  keyPrefix?: string;
  /** How long to wait for Redis at start before giving up; 10 s by default. */
  startupTimeoutMs?: number;
}

const STARTUP_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 1000;
const COMMAND_TIMEOUT_MS = 5000;
// A connection that gets no reply for this long after a write is treated as dead and replaced.
const SOCKET_TIMEOUT_MS = 10_000;
// Idle connections are pinged so the socket timeout also catches half-open TCP connections.
const HEARTBEAT_MS = 15_000;
const MAX_RECONNECT_DELAY_MS = 2000;
const ERROR_LOG_INTERVAL_MS = 10_000;
// Keeps one (re)subscribe command to a size Redis handles without stalling other clients.
const CHANNELS_PER_COMMAND = 5000;
// Reply errors that mean "not now" rather than "never": callers may retry them like an outage.
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|OOM)\b/;

// Atomic so that seq order, history order and delivery order always agree. The seq key is the
// source of truth: if it expired before the stream did, the stale stream would refuse the
// restarted ids, so it is dropped.
// KEYS: seq, history. ARGV: data, maxLength, ttl ms, channel, frame prefix, publish time suffix.
const PUBLISH_WITH_HISTORY = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) end
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], seq .. '-0', 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. seq .. ARGV[6] .. '\\n' .. ARGV[1])
return seq
`;

// KEYS: seq, history. ARGV: first stream id to return, limit.
// Returns { latestSeq, oldest retained seq (0 when none), flat [id, data, id, data, ...] }.
const READ_HISTORY = `
local latest = tonumber(redis.call('GET', KEYS[1]) or '0')
if latest == 0 then return {0, 0, {}} end
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local firstSeq = 0
if oldest[1] then firstSeq = tonumber(string.match(oldest[1][1], '^%d+')) end
local out = {}
if tonumber(ARGV[2]) > 0 then
  for _, row in ipairs(redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])) do
    out[#out + 1] = row[1]
    out[#out + 1] = row[2][2]
  end
end
return {latest, firstSeq, out}
`;

interface HistoryCommands {
  switchboardPublish(
    seqKey: string,
    historyKey: string,
    data: string,
    maxLength: number,
    ttlMs: number,
    channel: string,
    framePrefix: string,
    publishedSuffix: string,
  ): Promise<number>;
  switchboardReadHistory(
    seqKey: string,
    historyKey: string,
    fromId: string,
    limit: number,
  ): Promise<[number, number, string[]]>;
}

type Channel = string;

export async function createRedisBroker(options: RedisBrokerOptions): Promise<Broker> {
  const { mode } = options;
  const prefix = options.keyPrefix ?? 'sb:';
  const log = options.logger;
  const where = describeUrl(options.url);
  const startupTimeoutMs = options.startupTimeoutMs ?? STARTUP_TIMEOUT_MS;

  // Fail fast instead of queueing: while Redis is away, callers get BrokerUnavailableError at once
  // and in-flight commands are rejected on disconnect rather than silently resent.
  const connectionOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 5000,
    socketTimeout: SOCKET_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
  };
  const commands = new Redis(options.url, {
    ...connectionOptions,
    connectionName: 'switchboard:broker',
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Not ioredis's auto-pipelining: its pipelines outlive two young-generation collections and
    // so went to the old generation as garbage (at 500 relayed webhooks/s a third of what a node
    // promoted). `inOneWrite` gives the same single write without them.
    enableAutoPipelining: false,
    // After a failover the old primary answers READONLY; a new connection finds the new one.
    reconnectOnError: (err) => err.message.includes('READONLY'),
  }) as Redis & HistoryCommands;
  // Resubscribing is done here, not by ioredis, so that 'up' is only reported once it is true.
  const subscriber = new Redis(options.url, {
    ...connectionOptions,
    connectionName: 'switchboard:broker:sub',
    autoResubscribe: false,
  });
  commands.defineCommand('switchboardPublish', { numberOfKeys: 2, lua: PUBLISH_WITH_HISTORY });
  commands.defineCommand('switchboardReadHistory', { numberOfKeys: 2, lua: READ_HISTORY });

  const globalChannel = `${prefix}global`;
  const topicChannelPrefix = `${prefix}t:`;
  const channelOf = (topic: string): Channel =>
    mode === 'global' ? globalChannel : topicChannelPrefix + topic;
  const isWanted = (channel: Channel): boolean =>
    mode === 'global' ? wanted.size > 0 : wanted.has(channel.slice(topicChannelPrefix.length));
  // Hash-tagged so both keys of a topic land in one Redis Cluster slot (the scripts need that).
  const seqKey = (topic: string) => `${prefix}{${topic}}:seq`;
  const historyKey = (topic: string) => `${prefix}{${topic}}:hist`;

  /** Topics this node wants; the source of truth that Redis subscriptions are reconciled to. */
  const wanted = new Set<string>();
  /** Channels a SUBSCRIBE was sent for on the current subscriber connection. */
  const active = new Set<Channel>();
  /** SUBSCRIBEs not yet confirmed, so a repeated subscribe can wait for the first one. */
  const pending = new Map<Channel, Promise<void>>();
  const messageListeners = new Set<(delivery: Delivery) => void>();
  const stateListeners = new Set<(state: BrokerState) => void>();
  /** Bumped whenever the subscriber connection drops; outcomes from an older one are ignored. */
  let epoch = 0;
  /** The epoch whose subscriptions were last restored. */
  let syncedEpoch = -1;
  /** What listeners were last told. */
  let reported: BrokerState = 'up';
  let started = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let lastError: unknown;
  let commandsLost = false;

  const logConnectionError = rateLimited((suppressed, err: Error, connection: string) => {
    log.warn({ err, connection, url: where, suppressed }, 'redis connection error');
  });
  const logMalformed = rateLimited((suppressed, channel: string) => {
    log.warn({ channel, suppressed }, 'dropped a malformed broker message');
  });
  for (const [connection, name] of [
    [commands, 'command'],
    [subscriber, 'subscriber'],
  ] as const) {
    connection.on('error', (err: Error) => {
      lastError = err;
      logConnectionError(err, name);
    });
  }

  commands.on('close', () => {
    if (!started || closed || commandsLost) return;
    commandsLost = true;
    log.warn({ url: where }, 'redis command connection lost; publishes fail until it is back');
  });
  commands.on('ready', () => {
    reportUpWhenReady();
    if (!commandsLost) return;
    commandsLost = false;
    log.info({ url: where }, 'redis command connection restored');
  });

  subscriber.on('close', () => {
    epoch += 1;
    active.clear();
    pending.clear();
    if (closed || reported === 'down') return;
    reported = 'down';
    if (started) log.warn({ url: where }, 'redis subscriber connection lost; reconnecting');
    emitState('down');
  });
  subscriber.on('ready', resubscribeAll);
  subscriber.on('message', (channel: string, message: string) => {
    const delivery = parseFrame(channel, message);
    if (delivery === null) return;
    if (delivery === undefined) {
      logMalformed(channel);
      return;
    }
    for (const listener of messageListeners) {
      try {
        listener(delivery);
      } catch (err) {
        log.error({ err, topic: delivery.topic }, 'broker message listener threw');
      }
    }
  });

  /** The delivery, null when this node does not want it, undefined when it cannot be read. */
  function parseFrame(channel: Channel, message: string): Delivery | null | undefined {
    if (mode === 'global') {
      if (channel !== globalChannel) return null;
      const topicEnd = message.indexOf('\n');
      if (topicEnd < 0) return undefined;
      const topic = message.slice(0, topicEnd);
      if (!wanted.has(topic)) return null;
      const seqEnd = message.indexOf('\n', topicEnd + 1);
      if (seqEnd < 0) return undefined;
      return toDelivery(topic, message.slice(topicEnd + 1, seqEnd), message.slice(seqEnd + 1));
    }
    if (!channel.startsWith(topicChannelPrefix)) return null;
    const topic = channel.slice(topicChannelPrefix.length);
    // Filtering here as well keeps "nothing after unsubscribe" exact while UNSUBSCRIBE is in flight.
    if (!wanted.has(topic)) return null;
    const seqEnd = message.indexOf('\n');
    if (seqEnd < 0) return undefined;
    return toDelivery(topic, message.slice(0, seqEnd), message.slice(seqEnd + 1));
  }

  function emitState(state: BrokerState) {
    for (const listener of stateListeners) {
      try {
        listener(state);
      } catch (err) {
        log.error({ err, state }, 'broker state listener threw');
      }
    }
  }

  /** Sends one SUBSCRIBE or UNSUBSCRIBE; the promise settles when Redis confirmed it. */
  function send(command: 'subscribe' | 'unsubscribe', channels: Channel[]): Promise<void> {
    const sentIn = epoch;
    const reply =
      command === 'subscribe'
        ? subscriber.subscribe(...channels)
        : subscriber.unsubscribe(...channels);
    const done = reply.then(
      () => undefined,
      (err: unknown) => {
        // Redis refused (e.g. an ACL); forget the channels so a later subscribe tries again.
        // After a disconnect the new connection starts from an empty set anyway.
        if (command === 'subscribe' && sentIn === epoch) {
          for (const channel of channels) active.delete(channel);
        }
        throw toBrokerError(err, where, command);
      },
    );
    done.catch(noop);
    return done;
  }

  /** Sends SUBSCRIBE in chunks; returns, per channel, the promise of the command that covers it. */
  function subscribeChannels(channels: Channel[]): Map<Channel, Promise<void>> {
    const sent = new Map<Channel, Promise<void>>();
    for (const chunk of chunks(channels, CHANNELS_PER_COMMAND)) {
      const done = send('subscribe', chunk);
      for (const channel of chunk) {
        active.add(channel);
        pending.set(channel, done);
        sent.set(channel, done);
      }
      const forget = () => {
        for (const channel of chunk) if (pending.get(channel) === done) pending.delete(channel);
      };
      done.then(forget, forget);
    }
    return sent;
  }

  /**
   * Brings Redis in line with `wanted` for the touched channels; returns, per channel, a promise
   * that settles when Redis confirmed.
   */
  function reconcile(touched: Set<Channel>): Map<Channel, Promise<void>> {
    const results = new Map<Channel, Promise<void>>();
    if (closed) return results;
    const toSubscribe: Channel[] = [];
    const toUnsubscribe: Channel[] = [];
    for (const channel of touched) {
      const want = isWanted(channel);
      if (want && !active.has(channel)) toSubscribe.push(channel);
      else if (!want && active.has(channel)) toUnsubscribe.push(channel);
      else if (want) results.set(channel, pending.get(channel) ?? Promise.resolve());
    }
    if (subscriber.status !== 'ready') {
      // The topics stay wanted: they are subscribed when the connection is back, before 'up'.
      const failure = Promise.reject(
        new BrokerUnavailableError(`Redis at ${where} is not connected; subscribe failed`),
      );
      failure.catch(noop);
      for (const channel of toSubscribe) results.set(channel, failure);
      return results;
    }
    for (const [channel, done] of subscribeChannels(toSubscribe)) results.set(channel, done);
    for (const chunk of chunks(toUnsubscribe, CHANNELS_PER_COMMAND)) {
      const done = send('unsubscribe', chunk);
      for (const channel of chunk) {
        active.delete(channel);
        pending.delete(channel);
        results.set(channel, done);
      }
    }
    return results;
  }

  // Subscribe and unsubscribe calls made in the same tick share one command to Redis.
  let batch: { touched: Set<Channel>; done: Promise<Map<Channel, Promise<void>>> } | undefined;

  async function reconcileSoon(channels: Channel[]): Promise<void> {
    if (!batch) {
      const touched = new Set<Channel>();
      const done = new Promise<Map<Channel, Promise<void>>>((resolve) => {
        queueMicrotask(() => {
          batch = undefined;
          resolve(reconcile(touched));
        });
      });
      batch = { touched, done };
    }
    for (const channel of channels) batch.touched.add(channel);
    const results = await batch.done;
    await Promise.all(
      [...new Set(channels)].map((channel) => results.get(channel) ?? Promise.resolve()),
    );
  }

  function resubscribeAll() {
    if (closed) return;
    const at = epoch;
    const channels =
      mode === 'global' ? (wanted.size > 0 ? [globalChannel] : []) : [...wanted].map(channelOf);
    const synced = () => {
      if (at !== epoch) return;
      syncedEpoch = at;
      reportUpWhenReady();
    };
    if (channels.length === 0) {
      synced();
      return;
    }
    const sent = new Set(subscribeChannels(channels).values());
    void Promise.allSettled(sent).then((outcomes) => {
      if (closed || at !== epoch) return;
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          log.error({ err: outcome.reason as unknown }, 'redis resubscribe failed');
        }
      }
      synced();
    });
  }

  // 'up' tells listeners to resync (read history, then rely on deliveries), so it waits until
  // the subscriptions are back and the command connection can serve those reads.
  function reportUpWhenReady() {
    if (closed || reported === 'up' || syncedEpoch !== epoch) return;
    if (subscriber.status !== 'ready' || commands.status !== 'ready') return;
    reported = 'up';
    if (started)
      log.info(
        { url: where, topics: wanted.size },
        'redis broker up again; subscriptions restored',
      );
    emitState('up');
  }

  const connecting = Promise.all([untilReady(commands), untilReady(subscriber)]);
  commands.connect().catch(noop);
  subscriber.connect().catch(noop);
  try {
    await withTimeout(connecting, startupTimeoutMs, 'startup');
  } catch (err) {
    closed = true;
    commands.disconnect();
    subscriber.disconnect();
    const seconds = Math.round(startupTimeoutMs / 100) / 10;
    throw new BrokerUnavailableError(
      `Could not reach Redis at ${where} within ${seconds} s. ` +
        'Start Redis there, or unset REDIS_URL to run with the in-memory broker.',
      { cause: lastError ?? err },
    );
  }
  reported = 'up';
  started = true;
  log.info({ url: where, mode, keyPrefix: prefix }, 'redis broker connected');

  const heartbeat = setInterval(() => {
    for (const connection of [commands, subscriber]) {
      if (connection.status === 'ready') connection.ping().catch(noop);
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  function assertOpen() {
    if (closed) throw new Error('broker is closed');
  }

  /**
   * The commands issued from here to the end of this tick (a fan-out's publishes, a batch's)
   * leave in one write: the command connection's socket is corked until then.
   */
  let corked: Socket | undefined;
  function inOneWrite(): void {
    const socket = commands.stream as Socket | undefined;
    if (corked === socket || !socket || commands.status !== 'ready') return;
    corked = socket;
    socket.cork();
    process.nextTick(() => {
      corked = undefined;
      socket.uncork();
    });
  }

  return {
    kind: 'redis',

    async publish(topic, data, history) {
      assertOpen();
      assertTopic(topic);
      const channel = channelOf(topic);
      const framePrefix = mode === 'global' ? `${topic}\n` : '';
      // The seq line carries the publish time after an `@`: `<seq>@<ms>` (or `@<ms>`).
      const publishedSuffix = `@${Date.now()}`;
      try {
        inOneWrite();
        if (!history) {
          await commands.publish(channel, `${framePrefix}${publishedSuffix}\n${data}`);
          return {};
        }
        const seq = await commands.switchboardPublish(
          seqKey(topic),
          historyKey(topic),
          data,
          Math.max(0, Math.floor(history.maxLength)),
          Math.max(1, Math.ceil(history.ttlSeconds * 1000)),
          channel,
          framePrefix,
          publishedSuffix,
        );
        return { seq };
      } catch (err) {
        throw toBrokerError(err, where, 'publish');
      }
    },

    async publishSequenced(topic, seq, data) {
      assertOpen();
      assertTopic(topic);
      const framePrefix = mode === 'global' ? `${topic}\n` : '';
      try {
        inOneWrite();
        await commands.publish(channelOf(topic), `${framePrefix}${seq}@${Date.now()}\n${data}`);
      } catch (err) {
        throw toBrokerError(err, where, 'publish');
      }
    },

    /**
     * Resolves when Redis confirmed. While Redis is away it rejects with BrokerUnavailableError,
     * but the topics stay wanted and are subscribed on reconnect, before 'up' is reported.
     */
    async subscribe(topics) {
      assertOpen();
      if (topics.length === 0) return;
      for (const topic of topics) assertTopic(topic);
      for (const topic of topics) wanted.add(topic);
      await reconcileSoon(topics.map(channelOf));
    },

    async unsubscribe(topics) {
      if (closed || topics.length === 0) return;
      for (const topic of topics) wanted.delete(topic);
      await reconcileSoon(topics.map(channelOf));
    },

    onMessage(listener) {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },

    onStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },

    async readHistory(topic, afterSeq, limit): Promise<HistoryPage> {
      assertOpen();
      if (!Number.isFinite(afterSeq) || Number.isNaN(limit)) {
        throw new RangeError('readHistory needs a finite afterSeq and a limit');
      }
      const fromId = `${Math.max(0, Math.floor(afterSeq)) + 1}-0`;
      let reply: [number, number, string[]];
      try {
        inOneWrite();
        reply = await commands.switchboardReadHistory(
          seqKey(topic),
          historyKey(topic),
          fromId,
          Math.max(0, Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER)),
        );
      } catch (err) {
        throw toBrokerError(err, where, 'readHistory');
      }
      const [latestSeq, firstSeq, flat] = reply;
      const entries: HistoryEntry[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        entries.push({ seq: Number.parseInt(flat[i] ?? '', 10), data: flat[i + 1] ?? '' });
      }
      // Same rule as the memory broker: a seq beyond the newest means the history was reset.
      const complete = afterSeq <= latestSeq && (firstSeq === 0 || afterSeq >= firstSeq - 1);
      return { entries, latestSeq, complete };
    },

    async latestSeq(topic) {
      assertOpen();
      let value: string | null;
      try {
        inOneWrite();
        value = await commands.get(seqKey(topic));
      } catch (err) {
        throw toBrokerError(err, where, 'latestSeq');
      }
      return value === null ? 0 : Number.parseInt(value, 10);
    },

    async ping() {
      assertOpen();
      try {
        await withTimeout(commands.ping(), PING_TIMEOUT_MS, 'ping');
      } catch (err) {
        throw toBrokerError(err, where, 'ping');
      }
    },

    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(heartbeat);
        messageListeners.clear();
        stateListeners.clear();
        wanted.clear();
        await Promise.all([shutdown(commands), shutdown(subscriber)]);
      })();
      return closing;
    },
  };
}

function toDelivery(topic: string, seqLine: string, data: string): Delivery | undefined {
  const at = seqLine.indexOf('@');
  const seqText = at < 0 ? seqLine : seqLine.slice(0, at);
  const publishedAt = at < 0 ? undefined : Number(seqLine.slice(at + 1));
  if (publishedAt !== undefined && !Number.isSafeInteger(publishedAt)) return undefined;
  const meta = publishedAt === undefined ? {} : { publishedAt };
  if (seqText === '') return { topic, data, ...meta };
  const seq = Number(seqText);
  return Number.isSafeInteger(seq) ? { topic, data, seq, ...meta } : undefined;
}

// The frame separates fields with newlines, and a topic must mean the same in either mode.
function assertTopic(topic: string) {
  if (topic.includes('\n')) throw new TypeError('a broker topic cannot contain a newline');
}

function toBrokerError(err: unknown, where: string, operation: string): Error {
  if (err instanceof BrokerUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // A definite answer from Redis (wrong type, bad script) is a bug to surface, not an outage.
  if (err instanceof Error && err.name === 'ReplyError' && !TRANSIENT_REPLY.test(message)) {
    return err;
  }
  return new BrokerUnavailableError(`Redis at ${where} is unavailable (${operation}: ${message})`, {
    cause: err,
  });
}

/** Capped exponential backoff with jitter, so many nodes do not reconnect in lockstep. */
function reconnectDelay(attempt: number): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function untilReady(connection: Redis): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    connection.once('ready', () => resolve());
    // 'end' means ioredis gave up for good (e.g. invalid options), so waiting longer is pointless.
    connection.once('end', () => reject(new Error('connection ended')));
  });
}

async function shutdown(connection: Redis): Promise<void> {
  try {
    if (connection.status === 'ready') await withTimeout(connection.quit(), 1000, 'quit');
  } catch {
    // Closing anyway; a failed QUIT only means the server side times the client out.
  } finally {
    connection.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(noop);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Calls `fn` at most once per interval, so an outage does not flood the log; `suppressed` counts
 * the calls dropped since the last one.
 */
function rateLimited<A extends unknown[]>(
  fn: (suppressed: number, ...args: A) => void,
): (...args: A) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (...args) => {
    const now = Date.now();
    if (now - lastAt < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    lastAt = now;
    fn(suppressed, ...args);
    suppressed = 0;
  };
}

/** The URL without its password, for logs and error messages. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured Redis URL';
  }
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function noop() {}
