/**
 * WebSocket frames: JSON text, one object per frame. Every client frame may carry `id`; the
 * server's reply echoes it. Server pushes are `{ op: "event", topic, seq?, type, ... }`.
 * `docs/protocol.md` documents every op, field and error code.
 */
import { z } from 'zod';

/** Largest frame a client may send; larger ones close the socket with 1009. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Topic names: dot-separated segments of letters, digits and `_-:@`. */
export const topicSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w:@-]+(\.[\w:@-]+)*$/, 'a topic is dot-separated segments of letters, digits, _-:@');

const frameId = z.union([z.string().max(64), z.number().int()]).optional();

/** A position to resume from: the last seq the client saw on each topic. */
export const positionsSchema = z.record(topicSchema, z.number().int().min(0));

export const authFrame = z.object({
  op: z.literal('auth'),
  id: frameId,
  token: z.string().min(1),
  /**
   * Resume the topics every connection gets at authentication (`user.{id}`, `broadcast`) after
   * these seqs instead of starting them live: a reconnecting client gets what it missed on them
   * exactly once, in order. Other topics in it are ignored (give theirs to `subscribe`).
   */
  positions: positionsSchema.optional(),
});

export const subscribeFrame = z.object({
  op: z.literal('subscribe'),
  id: frameId,
  topics: z.array(topicSchema).min(1).max(100),
  /** Resume each topic after this seq instead of starting live. */
  positions: positionsSchema.optional(),
});

export const unsubscribeFrame = z.object({
  op: z.literal('unsubscribe'),
  id: frameId,
  topics: z.array(topicSchema).min(1).max(100),
});

export const resumeFrame = z.object({
  op: z.literal('resume'),
  id: frameId,
  positions: positionsSchema,
});

export const pingFrame = z.object({ op: z.literal('ping'), id: frameId });

export const presenceFrame = z.object({
  op: z.literal('presence'),
  id: frameId,
  userIds: z.array(z.string().min(1).max(200)).min(1).max(1000),
  /** Also receive `presence.changed` events for these users from now on. */
  watch: z.boolean().optional(),
});

/** The ops the realtime core itself understands; modules register more (e.g. `send`). */
export const coreClientFrame = z.discriminatedUnion('op', [
  authFrame,
  subscribeFrame,
  unsubscribeFrame,
  resumeFrame,
  pingFrame,
  presenceFrame,
]);
export type CoreClientFrame = z.infer<typeof coreClientFrame>;

/** Any client frame: an object with a string `op`. */
export const anyClientFrame = z.looseObject({ op: z.string().min(1).max(64), id: frameId });
export type AnyClientFrame = z.infer<typeof anyClientFrame>;

/** An event as published: a JSON object with a `type` (`noun.pastTense`, e.g. `message.created`). */
export const eventSchema = z.looseObject({
  type: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w.:-]+$/, 'an event type is letters, digits and . _ : -'),
});
export type RealtimeEvent = z.infer<typeof eventSchema>;

/** A server push, as the client receives it. */
export interface EventFrame extends RealtimeEvent {
  op: 'event';
  topic: string;
  /** Position in the topic's history; absent for topics published without history. */
  seq?: number;
}

/** Sent instead of events when history no longer covers a resume point: refetch, then go on. */
export interface ResyncRequiredFrame {
  op: 'resync_required';
  topic: string;
  /** The seq the client asked to resume after. */
  from: number;
  /** The newest seq now; subscribe from here after refetching state. */
  latest: number;
  reason: 'history_trimmed' | 'history_reset' | 'unknown_position';
}

export interface ErrorFrame {
  op: 'error';
  id?: string | number;
  code: string;
  message: string;
}

/** Positions as the server reports them: each topic with the seq the connection is now at. */
export const serverPositionsSchema = z.record(z.string(), z.number().int().min(0));

/**
 * The reply to `auth`. On success, `positions` lists every topic subscribed at authentication
 * (the user's own, `broadcast`, and modules' topics such as chat's channels); it is absent when
 * the connection was authenticated already (a token refresh).
 */
export const authReplyFrame = z.discriminatedUnion('success', [
  z.object({
    op: z.literal('auth'),
    id: frameId,
    success: z.literal(true),
    userId: z.string(),
    positions: serverPositionsSchema.optional(),
  }),
  z.object({
    op: z.literal('auth'),
    id: frameId,
    success: z.literal(false),
    code: z.string(),
    message: z.string(),
  }),
]);
export type AuthReplyFrame = z.infer<typeof authReplyFrame>;

/**
 * First frame of a WebSocket authenticated in the handshake (header or `?token=`), and the SSE
 * `connected` event after the initial replay: every topic the connection was subscribed to, with
 * its position.
 */
export const connectedFrame = z.object({
  op: z.literal('connected'),
  userId: z.string(),
  positions: serverPositionsSchema,
  /** SSE only: the stream's topics (the keys of `positions`), kept for older clients. */
  topics: z.array(z.string()).optional(),
});
export type ConnectedFrame = z.infer<typeof connectedFrame>;

/**
 * The server subscribed the connection to topics on its own (chat: a channel joined), with the
 * position each starts from; sent before the event that caused it.
 */
export const subscribedFrame = z.object({
  op: z.literal('subscribed'),
  positions: serverPositionsSchema,
});
export type SubscribedFrame = z.infer<typeof subscribedFrame>;

/** The server unsubscribed the connection from topics on its own (chat: a channel left). */
export const unsubscribedFrame = z.object({
  op: z.literal('unsubscribed'),
  topics: z.array(z.string()),
});
export type UnsubscribedFrame = z.infer<typeof unsubscribedFrame>;

/** Server ops a client may receive besides replies, which echo the request's op. */
export type ServerOp =
  'event' | 'resync_required' | 'error' | 'pong' | 'connected' | 'subscribed' | 'unsubscribed';
