// Message history windows by seq (channel history and thread replies alike).
//
// A page is `{ items, hasOlder, hasNewer, olderCursor, newerCursor, nextCursor }`:
// - items are in ascending seq; the newest page by default, or `before` a seq (exclusive),
//   `after` a seq (exclusive), or `around` a seq or message id (that message, or the first one
//   after that seq, with up to half the page before it);
// - olderCursor is a `before` value for the page just older than this one (null when there is
//   none), newerCursor an `after` value for the page just newer; following them never skips or
//   repeats a message, because seqs are unique and ordered in a channel;
// - nextCursor continues in the request's direction: newerCursor for `after`, olderCursor
//   otherwise (the collection convention: the next page of history is older).
import { and, asc, desc, eq, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import type { Database } from '../../store/index.js';
import { isUuid } from '../ids.js';
import { messages } from '../schema.js';
import { parseSeq, seqCursor } from './cursors.js';
import type { MessageRow } from './presenters/message.js';
import { windowQuery, type WindowQuery } from './schemas.js';

export interface WindowPage<T> {
  items: T[];
  hasOlder: boolean;
  hasNewer: boolean;
  olderCursor: string | null;
  newerCursor: string | null;
  nextCursor: string | null;
}

export async function readWindow(
  db: Database,
  scope: SQL,
  query: WindowQuery,
): Promise<WindowPage<MessageRow>> {
  const { before, after, around, limit } = windowQuery.parse(query);
  const older = (below: number, n: number) =>
    db
      .select()
      .from(messages)
      .where(and(scope, lt(messages.seq, below)))
      .orderBy(desc(messages.seq))
      .limit(n);
  const newer = (from: number, n: number) =>
    db
      .select()
      .from(messages)
      .where(and(scope, gte(messages.seq, from)))
      .orderBy(asc(messages.seq))
      .limit(n);
  const any = async (condition: SQL) =>
    (
      await db
        .select({ one: sql<number>`1` })
        .from(messages)
        .where(and(scope, condition))
        .limit(1)
    ).length > 0;

  let items: MessageRow[];
  let hasOlder: boolean;
  let hasNewer: boolean;
  // Where the cursors point when the page is empty.
  let olderEdge: number;
  let newerEdge: number;
  let forward = false;
  if (after !== undefined) {
    const seq = parseSeq(after, 'after');
    const rows = await newer(seq + 1, limit + 1);
    items = rows.slice(0, limit);
    hasNewer = rows.length > limit;
    hasOlder = await any(lte(messages.seq, seq));
    [olderEdge, newerEdge, forward] = [seq + 1, seq, true];
  } else if (around !== undefined) {
    const seq = await anchorSeq(db, scope, around);
    const olderCount = Math.floor(limit / 2);
    const [below, from] = await Promise.all([
      older(seq, olderCount + 1),
      newer(seq, limit - olderCount + 1),
    ]);
    items = [...below.slice(0, olderCount).reverse(), ...from.slice(0, limit - olderCount)];
    hasOlder = below.length > olderCount;
    hasNewer = from.length > limit - olderCount;
    [olderEdge, newerEdge] = [seq, seq - 1];
  } else {
    const seq = before === undefined ? Number.MAX_SAFE_INTEGER : parseSeq(before, 'before');
    const rows = await older(seq, limit + 1);
    items = rows.slice(0, limit).reverse();
    hasOlder = rows.length > limit;
    hasNewer = before === undefined ? false : await any(gte(messages.seq, seq));
    [olderEdge, newerEdge] = [seq, seq - 1];
  }
  const olderCursor = hasOlder ? seqCursor(items[0]?.seq ?? olderEdge) : null;
  const newerCursor = hasNewer ? seqCursor(items.at(-1)?.seq ?? newerEdge) : null;
  return {
    items,
    hasOlder,
    hasNewer,
    olderCursor,
    newerCursor,
    nextCursor: forward ? newerCursor : olderCursor,
  };
}

/** The seq `around` names: a message id in scope, or a seq (digits or a cursor). */
async function anchorSeq(db: Database, scope: SQL, around: string): Promise<number> {
  if (!isUuid(around)) return parseSeq(around, 'around');
  const [row] = await db
    .select({ seq: messages.seq })
    .from(messages)
    .where(and(scope, eq(messages.id, around)));
  if (!row) throw new AppError('not_found', 'around: no such message here.');
  return row.seq;
}
