// The bytes of the agent stream: `id:`, `event:` and one `data:` line per event, LF only (the
// plugin splits on "\n\n" and keeps the last `data:` line). Each delivery is framed once per
// node and shared by every stream that receives it.
import type { OutgoingEvent } from '../../realtime/index.js';
import { ACCESS_REVOKED_EVENT, MESSAGE_EVENT, type AccessRevokedPayload } from '../events.js';
import { SESSION_TOPIC_PREFIX } from '../topics.js';

export const PING_FRAME = ': ping\n\n';

/** Session-stream ids carry this prefix, so they are never taken for an account-topic seq. */
export const SESSION_ID_PREFIX = 's';

export interface PreparedEvent {
  readonly type: string;
  readonly frame: string;
  /** The inbound message a `message` event carries. */
  readonly messageId: string | undefined;
  /** What an `access_revoked` event revokes (it is not written to agents). */
  readonly revocation?: Revocation;
}

export interface Revocation {
  /** Epoch ms: streams opened at or before it end. */
  readonly at: number;
  readonly reason: AccessRevokedPayload['reason'];
  readonly credential: AccessRevokedPayload['credential'];
}

/** One SSE event; `data` must be one line of JSON. */
export function sseFrame(type: string, data: string, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${data}\n\n`;
}

/** The `id:` of an event of `topic` with `seq`. */
export function streamEventId(topic: string, seq: number): string {
  return topic.startsWith(SESSION_TOPIC_PREFIX) ? `${SESSION_ID_PREFIX}${seq}` : String(seq);
}

/**
 * The event as agent streams write it, built once per node. (Kept on the event: a WeakMap from
 * event to frame made every frame outlive young-generation collections, since V8's scavenger
 * keeps a weak map's values, and so a fifth of what a node promoted at 500 webhooks/s.)
 */
export function prepareEvent(event: OutgoingEvent): PreparedEvent {
  return event.renderedBy(prepare);
}

function prepare(event: OutgoingEvent): PreparedEvent {
  const type = event.type();
  const id = event.seq === undefined ? undefined : streamEventId(event.topic, event.seq);
  return {
    type,
    frame: sseFrame(type, event.data, id),
    messageId: type === MESSAGE_EVENT ? messageIdOf(event.data) : undefined,
    ...(type === ACCESS_REVOKED_EVENT ? { revocation: revocationOf(event.data) } : {}),
  };
}

function revocationOf(data: string): Revocation {
  try {
    const payload = JSON.parse(data) as Partial<AccessRevokedPayload>;
    const at = Date.parse(payload.revokedAt ?? '');
    return {
      at: Number.isNaN(at) ? Infinity : at,
      reason: payload.reason ?? 'disabled',
      credential: payload.credential === 'relay_token' ? 'relay_token' : 'any',
    };
  } catch {
    // Unreadable, so taken at its strictest: every stream ends.
    return { at: Infinity, reason: 'disabled', credential: 'any' };
  }
}

/** How a live `message` event's data starts: the type, then the payload's `id` (enqueue.ts). */
const LIVE_MESSAGE_HEAD = `{"type":"${MESSAGE_EVENT}","id":"`;

export function messageIdOf(data: string): string | undefined {
  // A live event is read up to its id instead of parsed whole (the Kakao payload it carries is
  // most of it); an id with an escape, or data in another order (a resumed event's PostgreSQL
  // text), is parsed.
  if (data.startsWith(LIVE_MESSAGE_HEAD)) {
    const end = data.indexOf('"', LIVE_MESSAGE_HEAD.length);
    const id = data.slice(LIVE_MESSAGE_HEAD.length, end);
    if (end > LIVE_MESSAGE_HEAD.length && !id.includes('\\')) return id;
  }
  try {
    const id = (JSON.parse(data) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The seq a `Last-Event-ID` names on an account stream (`"42"`), or on a session stream
 * (`"s42"`); undefined for anything else, which starts the stream afresh.
 */
export function parseStreamId(value: unknown, session: boolean): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = (session ? /^s(\d{1,15})$/ : /^(\d{1,15})$/).exec(value.trim());
  return match ? Number(match[1]) : undefined;
}
