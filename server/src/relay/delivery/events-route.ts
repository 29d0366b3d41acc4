// GET /v1/events: the agent's SSE stream, registered on the realtime hub like any other
// connection. An account stream follows `relay.account.<id>`; a session still waiting for its
// Kakao user follows `relay.session.<id>` with `s`-prefixed ids.
//
// Without Last-Event-ID a stream starts at the topic's head H: first every message still
// `queued` at or before H (from the database, oldest first), then the hub replays whatever
// comes after H and goes live, so nothing falls between the two. With a Last-Event-ID the hub
// replays after it. Then `connected`, then live events.
import type { FastifyInstance } from 'fastify';
import { openEventStream } from '../../http/event-stream.js';
import type { RelayContext } from '../context.js';
import { PAIRING_COMPLETE_EVENT, PAIRING_EXPIRED_EVENT } from '../events.js';
import { authenticateAgent } from '../openclaw/agent-auth.js';
import { limitAgent } from '../openclaw/rate-limit.js';
import { accountTopic, sessionTopic } from '../topics.js';
import { AgentStream, type StoredMessageFrame } from './agent-stream.js';
import type { AgentDelivery } from './delivery.js';
import { parseStreamId, sseFrame } from './frames.js';
import {
  closedBetween,
  messageEventData,
  openBetween,
  queuedUpTo,
  topicHead,
  type InboundRow,
} from './inbound-queries.js';

export const EVENTS_PATH = '/v1/events';

const SESSION_END_AFTER = new Set([PAIRING_COMPLETE_EVENT, PAIRING_EXPIRED_EVENT]);
const ACCOUNT_END_AFTER = new Set([PAIRING_EXPIRED_EVENT]);

const storedFrame = (row: InboundRow): StoredMessageFrame => ({
  messageId: row.id,
  frame: sseFrame('message', messageEventData(row), String(row.eventSeq)),
});

export function registerEventsRoute(
  app: FastifyInstance,
  ctx: RelayContext,
  delivery: AgentDelivery,
): void {
  const hub = ctx.realtime.hub;

  app.get(EVENTS_PATH, async (request, reply) => {
    const principal = await authenticateAgent(ctx, request);
    await limitAgent(ctx, principal, reply);
    const query = request.query as Record<string, unknown>;
    const lastEventId = request.headers['last-event-id'] ?? query.lastEventId;
    const isAccount = principal.kind === 'account';
    const topic = isAccount ? accountTopic(principal.accountId) : sessionTopic(principal.sessionId);

    // Everything that may fail is read before the response starts, so it fails as HTTP.
    let from: number;
    /** The last seq that counts as replay; a session topic is replayed whole. */
    let replayedTo = Infinity;
    let backlog: InboundRow[] = [];
    let skip: ReadonlySet<string> | undefined;
    if (isAccount) {
      const head = await topicHead(ctx, topic);
      replayedTo = head;
      const resumeAt = parseStreamId(lastEventId, false);
      if (resumeAt !== undefined && resumeAt <= head) {
        from = resumeAt;
        skip = await closedBetween(ctx, principal.accountId, resumeAt, head);
      } else {
        from = head;
        backlog = await queuedUpTo(ctx, principal.accountId, head);
      }
    } else {
      // A session topic holds at most its pairing notices: read it whole, so a pairing that
      // committed while this request was authenticated is not missed.
      from = parseStreamId(lastEventId, true) ?? 0;
    }

    const raw = openEventStream(request, reply, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
    });
    // The agent left while it was authenticated and its backlog read: no stream is opened.
    if (!raw) return;

    const accountId = isAccount ? principal.accountId : undefined;
    const stream = new AgentStream({
      raw,
      maxBufferBytes: ctx.config.REALTIME_MAX_BUFFER_BYTES,
      marker: delivery.marker,
      log: delivery.log,
      endAfter: isAccount ? ACCOUNT_END_AFTER : SESSION_END_AFTER,
      credential: principal.sessionId === null ? 'relay_token' : 'session_token',
      ...(skip ? { skipMessageIds: skip } : {}),
      ...(accountId
        ? {
            fillGap: async (after: number, latest: number) =>
              (await openBetween(ctx, accountId, after, latest)).map(storedFrame),
          }
        : {}),
      onEnd: () => {
        delivery.streams.delete(stream);
        hub.removeConnection(connection);
      },
    });
    const connection = hub.addConnection(
      isAccount ? `relay-account:${principal.accountId}` : `relay-session:${principal.sessionId}`,
      request.ip,
      stream,
    );
    delivery.streams.add(stream);

    for (const row of backlog) {
      if (!stream.writeStored(storedFrame(row))) {
        // Too slow for its own backlog: it resumes from the last id it got.
        stream.close('slow_consumer');
        return;
      }
    }
    // The original relay's order: what was queued or is replayed, then `connected`, then what
    // comes live, even when a live event arrives while the subscription catches up.
    stream.announceAfter(replayedTo, 'connected', {
      accountId: isAccount ? principal.accountId : '',
      sessionId: principal.sessionId ?? '',
      status: isAccount ? 'paired' : 'pending_pairing',
    });
    try {
      await hub.subscribe(connection, [topic], new Map([[topic, from]]));
    } catch (err) {
      delivery.log.warn({ err, topic }, 'could not subscribe an agent stream');
      stream.close('internal_error', 'could not start the stream; reconnect');
      return;
    }
    stream.settleAnnouncement();
  });
}
