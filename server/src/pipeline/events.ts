// What goes into the outbox and what comes back out of it.

/** An event an application command records in its transaction. */
export interface OutboxEventInput {
  /** Dotted event name, e.g. `message.created`; consumers subscribe by type. */
  readonly type: string;
  /** The durable topic it is published on, e.g. `chat.channel.42`. */
  readonly topic: string;
  /** The event body; its `type` field, if any, is replaced by `type`. */
  readonly payload: Record<string, unknown>;
}

/** An outbox row as the fast path and the relay workers handle it. */
export interface OutboxRecord {
  readonly id: number;
  readonly type: string;
  readonly topic: string;
  /** Gap-free position in the topic, assigned in the writing transaction. */
  readonly seq: number;
  readonly payload: Record<string, unknown>;
  /** The payload's JSON text, when its writer had it at hand: consumers encode from it. */
  readonly payloadJson?: string | undefined;
  /** Consumers whose work is still to do. */
  readonly pending: readonly string[];
  readonly retryCount: number;
  /** When the writing transaction started (ms since the epoch, the database's clock). */
  readonly createdAtMs: number;
}

/** The row shape both drivers return for `returning`/`select` of outbox records. */
export interface OutboxRow {
  id: string | number;
  type: string;
  topic: string;
  seq: string | number;
  payload: Record<string, unknown>;
  pending: string[] | null;
  retry_count: string | number | null;
  created_ms: string | number;
}

export function recordFromRow(row: OutboxRow): OutboxRecord {
  return recordWithPayload(row, row.payload);
}

/** An event `o`'s own columns of an `OutboxRow`, but its payload. */
export const EVENT_COLUMNS = `o.id::text as id, o.type, o.topic, o.seq::text as seq,
  extract(epoch from o.created_at) * 1000 as created_ms`;

/**
 * The columns selected into an `OutboxRow`, from an event `o` and its work row `w` (left joined:
 * an event without work has no consumer left).
 */
export const RECORD_COLUMNS = `${EVENT_COLUMNS}, o.payload, w.pending, w.retry_count`;

/** The record of a row selected without its payload, with the payload its writer wrote. */
export function recordWithPayload(
  row: Omit<OutboxRow, 'payload'>,
  payload: Record<string, unknown>,
  payloadJson?: string,
): OutboxRecord {
  // Named fields, not spreads: a spread copy of a row is allocated where the young generation
  // cannot reclaim it cheaply, and this runs once per event written.
  return {
    id: Number(row.id),
    type: row.type,
    topic: row.topic,
    seq: Number(row.seq),
    payload,
    payloadJson,
    pending: row.pending ?? [],
    retryCount: Number(row.retry_count ?? 0),
    createdAtMs: Number(row.created_ms),
  };
}
