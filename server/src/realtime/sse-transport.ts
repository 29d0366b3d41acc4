// Server-Sent Events at GET /api/v1/events/stream: the topics a WebSocket gets at authentication
// (the user's own, broadcast, and the modules' defaults such as chat's channels) plus any
// `?topics=` it may read, `id:` cursors over all of them that resume through the browser's
// Last-Event-ID, `: ping` comments and a `retry:` hint.
import {
  decodeCursor,
  encodeCursor,
  SSE_PING,
  SSE_RETRY_MS,
  sseEvent,
  topicSchema,
  type ConnectedFrame,
} from '@switchboard/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../http/index.js';
import { openEventStream } from '../http/event-stream.js';
import type { Logger, Metrics } from '../observability/index.js';
import { AuthError, type Authenticator } from './auth.js';
import type { Connection, ConnectionSink } from './connection.js';
import type { Hub } from './hub.js';
import type { Admission, Refusal } from './limits.js';
import type { TopicPolicies } from './topics.js';

export const SSE_PATH = '/api/v1/events/stream';

export interface SseTransportOptions {
  app: FastifyInstance;
  hub: Hub;
  auth: Authenticator;
  policies: TopicPolicies;
  logger: Logger;
  maxBufferBytes: number;
  pingIntervalMs: number;
  /** Decides whether a stream may open (limits, allow/deny lists); released when it ends. */
  admit?: (request: FastifyRequest) => Admission;
  /** Decides whether a user may open one more connection; asked right before registering it. */
  admitUser?: (userId: string) => Refusal | undefined;
  metrics?: Metrics;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const query = request.query as Record<string, unknown>;
  return typeof query.token === 'string' ? query.token : undefined;
}

export function registerSseTransport(options: SseTransportOptions): { close(): void } {
  const { app, hub, auth, policies, metrics } = options;
  const refuse = (refusal: Refusal) => {
    metrics?.refused.inc({ transport: 'sse', reason: refusal.reason });
    return new AppError(
      refusal.code,
      refusal.message,
      undefined,
      refusal.code === 'forbidden' ? undefined : { 'retry-after': '1' },
    );
  };
  const streams = new Set<{
    connection: Connection;
    write(chunk: string): void;
    end(reason: string): void;
  }>();

  app.get(SSE_PATH, async (request: FastifyRequest, reply: FastifyReply) => {
    const admission = options.admit?.(request);
    if (admission && !admission.ok) throw refuse(admission.refusal);
    // The slot is held until the response is over, however it ends (refused, failed or closed).
    if (admission) reply.raw.once('close', admission.release);
    const token = bearer(request);
    if (!token)
      throw new AppError(
        'unauthorized',
        'Send the access token as Authorization: Bearer or ?token=',
      );
    const identity = await auth.verify(token).catch((err: unknown) => {
      // Anything but a refused token (the database resolving its user) goes to the error handler.
      if (!(err instanceof AuthError)) throw err;
      throw new AppError(err.reason === 'expired' ? 'token_expired' : 'unauthorized', err.message);
    });

    const query = request.query as Record<string, unknown>;
    const extra = typeof query.topics === 'string' && query.topics ? query.topics.split(',') : [];
    for (const topic of extra) {
      if (!topicSchema.safeParse(topic).success) {
        throw new AppError(
          'invalid_request',
          `topics: "${topic.slice(0, 100)}" is not a topic name`,
        );
      }
      if (!(await policies.allows(identity.userId, topic, identity.grant))) {
        throw new AppError('forbidden', `not allowed to subscribe to ${topic}`);
      }
    }

    const lastEventId =
      (request.headers['last-event-id'] as string | undefined) ??
      (typeof query.lastEventId === 'string' ? query.lastEventId : undefined);
    // Positions only count for topics the stream subscribes (the hub ignores the others).
    let positions = new Map<string, number>();
    if (lastEventId) {
      const decoded = decodeCursor(lastEventId);
      if (!decoded) {
        throw new AppError('invalid_request', 'Last-Event-ID is not a cursor this server issued');
      }
      positions = decoded;
    }

    // Nothing is awaited from here until the hub registers the connection, so this is exact.
    const refusal = options.admitUser?.(identity.userId);
    if (refusal) throw refuse(refusal);

    const raw = openEventStream(request, reply, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-request-id': request.id,
    });
    // The client left while its token and topics were checked: no connection is added.
    if (!raw) return;
    raw.write(`retry: ${SSE_RETRY_MS}\n\n`);

    // Assigned right after the sink exists; the sink reads it only once events flow.
    // eslint-disable-next-line prefer-const
    let connection: Connection | undefined;
    const cursorWith = (topic: string, seq: number | undefined) => {
      const current = connection?.positions() ?? new Map<string, number>();
      if (seq !== undefined) current.set(topic, seq);
      return encodeCursor(current);
    };
    let ended = false;
    const sink: ConnectionSink = {
      transport: 'sse',
      sendEvent(event) {
        if (raw.writableLength > options.maxBufferBytes) return false;
        raw.write(sseEvent(event.type(), event.wsFrame(), cursorWith(event.topic, event.seq)));
        return true;
      },
      sendFrame(frame) {
        if (raw.writableLength > options.maxBufferBytes) return false;
        const op = typeof frame.op === 'string' ? frame.op : 'message';
        // A change of topics moves the cursor too: a reconnect right after it resumes the new set.
        const id =
          op === 'subscribed' || op === 'unsubscribed'
            ? encodeCursor(connection?.positions() ?? new Map())
            : undefined;
        raw.write(sseEvent(op, JSON.stringify(frame), id));
        return true;
      },
      bufferedBytes: () => raw.writableLength,
      close(name, message) {
        if (ended) return;
        ended = true;
        metrics?.closedByServer.inc({ transport: 'sse', code: name });
        raw.end(sseEvent('close', JSON.stringify({ op: 'close', reason: name, message })));
      },
    };
    connection = hub.addConnection(identity.userId, request.ip, sink);
    const stream = {
      connection,
      write: (chunk: string) => raw.write(chunk),
      end: (reason: string) => sink.close('going_away_reconnect', reason),
    };
    streams.add(stream);
    const cleanup = () => {
      streams.delete(stream);
      if (connection) hub.removeConnection(connection);
    };
    raw.on('close', cleanup);
    // The same topics a WebSocket gets at authentication (modules add theirs: chat's channels),
    // then the requested ones; a module may change them later (`subscribed` / `unsubscribed`).
    const subscribed = await hub.subscribeDefaults(connection, positions);
    const requested = extra.filter((topic) => !connection?.isSubscribed(topic));
    if (requested.length > 0 && !connection.closed) {
      Object.assign(subscribed, await hub.subscribe(connection, requested, positions));
    }
    if (!connection.closed) {
      const connected: ConnectedFrame = {
        op: 'connected',
        userId: identity.userId,
        positions: subscribed,
        topics: Object.keys(subscribed),
      };
      raw.write(
        sseEvent('connected', JSON.stringify(connected), encodeCursor(connection.positions())),
      );
    }
  });

  // One timer for every stream: a comment keeps proxies from closing idle connections.
  const ping = setInterval(() => {
    for (const stream of streams) {
      if (stream.connection.sink.bufferedBytes() <= options.maxBufferBytes) stream.write(SSE_PING);
    }
  }, options.pingIntervalMs);
  ping.unref();

  return {
    close() {
      clearInterval(ping);
      for (const stream of [...streams]) stream.end('server shutting down; reconnect elsewhere');
    },
  };
}
