// Every statement the pipeline runs against core.outbox, core.outbox_work and core.topic_seqs.
// Each works on PostgreSQL, through PgBouncer in transaction mode, and on PGlite. An event is
// processed when it has no work row: it had no consumer, or the last one succeeded.
import { sql, type SQL } from 'drizzle-orm';
import { arrayLiteral, rowsOf, type Executor } from '../store/index.js';
import {
  EVENT_COLUMNS,
  RECORD_COLUMNS,
  recordFromRow,
  recordWithPayload,
  type OutboxRecord,
  type OutboxRow,
} from './events.js';

/** The channel workers LISTEN on for an immediate wake-up. */
export const WAKE_CHANNEL = 'switchboard_outbox';

export interface AppendItem {
  readonly type: string;
  readonly topic: string;
  readonly payload: Record<string, unknown>;
  readonly pending: readonly string[];
}

/**
 * A new work row's `available_at`: the end of the committing process's turn, which starts at the
 * inserting statement, not at the transaction's start.
 */
function endOfCommittersTurn(workerDelayMs: number): SQL {
  return sql`clock_timestamp() + make_interval(secs => ${workerDelayMs}::float8 / 1000)`;
}

/**
 * Inserts events in one statement: each topic's seq row is bumped once by the number of its
 * events (its row lock orders concurrent writers, so seqs commit in order and without holes),
 * and each event gets the next seq of its topic in input order. Events with consumers get their
 * work row; the others are stored processed. Returns the records in input order.
 */
export async function insertEvents(
  executor: Executor,
  items: readonly AppendItem[],
  workerDelayMs: number,
): Promise<OutboxRecord[]> {
  if (items.length === 0) return [];
  if (items.length === 1) return [await insertOneEvent(executor, items[0]!, workerDelayMs)];
  const input = JSON.stringify(items);
  const result = await executor.execute(sql`
    with input as (
      select e->>'type' as type, e->>'topic' as topic, e->'payload' as payload,
        array(select jsonb_array_elements_text(e->'pending')) as pending,
        row_number() over (partition by e->>'topic' order by ord) as r,
        count(*) over (partition by e->>'topic') as n
      from jsonb_array_elements(${input}::jsonb) with ordinality as x(e, ord)
    ), seqs as (
      insert into core.topic_seqs as t (topic, last_seq)
      select distinct topic, n from input order by topic
      on conflict (topic) do update set last_seq = t.last_seq + excluded.last_seq
      returning topic, last_seq
    ), numbered as (
      select i.*, s.last_seq - i.n + i.r as seq from input i join seqs s using (topic)
    ), o as (
      insert into core.outbox (type, topic, seq, payload)
      select type, topic, seq, payload from numbered
      returning id, type, topic, seq, payload, created_at
    ), w as (
      insert into core.outbox_work (event_id, pending, available_at)
      select o.id, n.pending, ${endOfCommittersTurn(workerDelayMs)}
      from o join numbered n using (topic, seq)
      where cardinality(n.pending) > 0
      returning event_id, pending, retry_count
    )
    select ${sql.raw(RECORD_COLUMNS)} from o left join w on w.event_id = o.id`);
  const byTopic = new Map<string, OutboxRecord[]>();
  for (const record of rowsOf<OutboxRow>(result).map(recordFromRow)) {
    const list = byTopic.get(record.topic);
    if (list) list.push(record);
    else byTopic.set(record.topic, [record]);
  }
  for (const list of byTopic.values()) list.sort((a, b) => a.seq - b.seq);
  return items.map((item) => {
    const record = byTopic.get(item.topic)?.shift();
    if (!record) throw new Error(`outbox insert returned no row for ${item.topic}`);
    return record;
  });
}

/**
 * A topic the statement computes from the columns of the appending CTE's `after` rows (say, an
 * account's topic from the account id a conversation row holds): `prefix || rest`.
 */
export interface TopicExpression {
  readonly prefix: string;
  readonly rest: SQL;
}

/**
 * CTEs that append one event inside a caller's statement: `appended_seq` bumps the topic's seq
 * once per row of the CTE `after` (one row, or none to append nothing), so the locks that CTE
 * takes come first; `appended_event` inserts the event with `payload(seq)` (and
 * `appended_work` its work row, when it has consumers); `appended` is its record without the
 * payload (the writer has it: it wrote it).
 */
export function appendCtes(
  item: Omit<AppendItem, 'payload' | 'topic'> & { readonly topic: string | TopicExpression },
  payload: (seq: SQL) => SQL,
  workerDelayMs: number,
  after: string,
): SQL {
  // Consumer names are lowercase identifiers, so the array literal needs no quoting.
  const pending = arrayLiteral(item.pending);
  const topic =
    typeof item.topic === 'string'
      ? sql`${item.topic}`
      : sql`${item.topic.prefix}::text || (${item.topic.rest})`;
  return sql`appended_seq as (
      insert into core.topic_seqs as t (topic, last_seq)
      select ${topic}, 1 from ${sql.identifier(after)}
      on conflict (topic) do update set last_seq = t.last_seq + 1
      returning topic, last_seq
    ), appended_event as (
      insert into core.outbox (type, topic, seq, payload)
      select ${item.type}, s.topic, s.last_seq, ${payload(sql`s.last_seq`)}
      from appended_seq s
      returning id, type, topic, seq, created_at
    ), ${
      item.pending.length === 0
        ? sql``
        : sql`appended_work as (
      insert into core.outbox_work (event_id, pending, available_at)
      select id, ${pending}::text[], ${endOfCommittersTurn(workerDelayMs)}
      from appended_event
    ), `
    }appended as (
      select ${sql.raw(EVENT_COLUMNS)}, ${pending}::text[] as pending, 0 as retry_count
      from appended_event o
    )`;
}

/** The common case, one event, in a statement PostgreSQL plans several times faster. */
async function insertOneEvent(
  executor: Executor,
  item: AppendItem,
  workerDelayMs: number,
): Promise<OutboxRecord> {
  const payloadJson = JSON.stringify(item.payload);
  const appended = appendCtes(item, () => sql`${payloadJson}::jsonb`, workerDelayMs, 'one');
  const result = await executor.execute(sql`with one as (select 1), ${appended}
    select * from appended`);
  const row = rowsOf<Omit<OutboxRow, 'payload'>>(result)[0];
  if (!row) throw new Error(`outbox insert returned no row for ${item.topic}`);
  return recordWithPayload(row, item.payload, payloadJson);
}

/** Marks events done for every consumer: their work rows go. */
export async function markProcessed(executor: Executor, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await executor.execute(sql`
    delete from core.outbox_work where event_id = any(${arrayLiteral(ids)}::bigint[])`);
}

export interface FailureUpdate {
  readonly id: number;
  /** Consumers still to run. */
  readonly pending: readonly string[];
  readonly error: string;
  /** 1 when the failure uses up one of the event's attempts, 0 for a transient one. */
  readonly attemptsUsed: 0 | 1;
  readonly delayMs: number;
  readonly deadLetter: boolean;
}

/** Records failed attempts in one statement and wakes workers when any is due at once. */
export async function recordFailures(
  executor: Executor,
  failures: readonly FailureUpdate[],
): Promise<void> {
  if (failures.length === 0) return;
  await executor.execute(sql`
    update core.outbox_work w set
      pending = array(select jsonb_array_elements_text(f->'pending')),
      retry_count = w.retry_count + (f->>'attemptsUsed')::int,
      error = f->>'error',
      available_at = now() + make_interval(secs => (f->>'delayMs')::float8 / 1000),
      dead_lettered_at = case when (f->>'deadLetter')::boolean then now() end
    from jsonb_array_elements(${JSON.stringify(failures)}::jsonb) f
    where w.event_id = (f->>'id')::bigint`);
}

export async function notifyWorkers(executor: Executor): Promise<void> {
  await executor.execute(sql`select pg_notify(${WAKE_CHANNEL}, '')`);
}

/**
 * The fast path deletes nearly every work row before it is due, and the due index keeps an entry
 * for each until vacuum: tens of thousands between autovacuums on a busy node. A bitmap
 * scan (the planner's pick for the few rows it expects) reads the heap for every one of them on
 * every poll; a plain index scan marks each dead entry as it passes, and no later scan reads its
 * heap page again. For the rest of the caller's transaction.
 */
export const PLAIN_INDEX_SCANS = sql`set local enable_bitmapscan = off`;

/** Due events, oldest due first, their work rows locked; rows another worker holds are skipped. */
export function dueEventsQuery(limit: number): SQL {
  return sql`
    select ${sql.raw(RECORD_COLUMNS)}
    from core.outbox_work w join core.outbox o on o.id = w.event_id
    where w.dead_lettered_at is null and w.available_at <= now()
    order by w.available_at
    limit ${limit}
    for update of w skip locked`;
}

/**
 * Claims due events for the rest of the caller's transaction. Rows another worker holds are
 * skipped, not waited for; rows still in the committing process's turn are not due yet.
 */
export async function claimDue(executor: Executor, limit: number): Promise<OutboxRecord[]> {
  await executor.execute(PLAIN_INDEX_SCANS);
  const result = await executor.execute(dueEventsQuery(limit));
  return rowsOf<OutboxRow>(result).map(recordFromRow);
}

export interface HistoryRows {
  readonly latestSeq: number;
  readonly entries: ReadonlyArray<{ seq: number; type: string; payload: Record<string, unknown> }>;
}

/** A durable topic's events after `afterSeq`, oldest first, and its newest seq. */
export async function readTopic(
  executor: Executor,
  topic: string,
  afterSeq: number,
  limit: number,
): Promise<HistoryRows> {
  const [head, rows] = await Promise.all([
    executor.execute(
      sql`select last_seq::text as last_seq from core.topic_seqs where topic = ${topic}`,
    ),
    executor.execute(sql`
      select seq::text as seq, type, payload from core.outbox o
      where topic = ${topic} and o.seq > ${afterSeq}
      order by o.seq
      limit ${limit}`),
  ]);
  const latest = rowsOf<{ last_seq: string }>(head)[0];
  return {
    latestSeq: latest ? Number(latest.last_seq) : 0,
    entries: rowsOf<{ seq: string; type: string; payload: Record<string, unknown> }>(rows).map(
      (r) => ({ seq: Number(r.seq), type: r.type, payload: r.payload }),
    ),
  };
}

/** The last seq of each of `topics` that has had an event (topics without one are missing). */
export async function readTopicHeads(
  executor: Executor,
  topics: readonly string[],
): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map();
  const result = await executor.execute(
    sql`select topic, last_seq::text as last_seq from core.topic_seqs
        where topic in (${sql.join(
          topics.map((topic) => sql`${topic}`),
          sql`, `,
        )})`,
  );
  return new Map(
    rowsOf<{ topic: string; last_seq: string }>(result).map((r) => [r.topic, Number(r.last_seq)]),
  );
}

export interface OutboxStats {
  /** Events not yet done by every consumer, dead letters excluded. */
  readonly pending: number;
  /** Age in seconds of the oldest pending event (0 when none). */
  readonly oldestPendingSeconds: number;
  readonly deadLetters: number;
}

export async function readStats(executor: Executor): Promise<OutboxStats> {
  const result = await executor.execute(sql`
    select
      (select count(*) from core.outbox_work where dead_lettered_at is null)::int as pending,
      coalesce((select extract(epoch from now() - min(o.created_at))
        from core.outbox_work w join core.outbox o on o.id = w.event_id
        where w.dead_lettered_at is null), 0)::float8 as oldest,
      (select count(*) from core.outbox_work where dead_lettered_at is not null)::int as dead`);
  const row = rowsOf<{ pending: number; oldest: number; dead: number }>(result)[0];
  return {
    pending: Number(row?.pending ?? 0),
    oldestPendingSeconds: Math.max(0, Number(row?.oldest ?? 0)),
    deadLetters: Number(row?.dead ?? 0),
  };
}

export interface DeadLetter {
  readonly id: number;
  readonly type: string;
  readonly topic: string;
  readonly seq: number;
  readonly pending: readonly string[];
  readonly retryCount: number;
  readonly error: string | null;
  readonly createdAt: string;
  readonly deadLetteredAt: string;
}

/**
 * The dead-lettered events of the topics under `prefix`, as a subquery for a module's own lists:
 * columns `id` (text), `topic`, `type`, `error`, `retry_count`, `created_at`.
 */
export function deadLettersUnder(prefix: string): SQL {
  return sql`select x.id::text as id, x.topic, x.type, xw.error, xw.retry_count, x.created_at
    from core.outbox_work xw join core.outbox x on x.id = xw.event_id
    where xw.dead_lettered_at is not null and starts_with(x.topic, ${prefix}::text)`;
}

/** Dead letters oldest first, after the id `afterId` (a cursor). */
export async function listDeadLetters(
  executor: Executor,
  afterId: number,
  limit: number,
): Promise<DeadLetter[]> {
  const result = await executor.execute(sql`
    select o.id::text as id, o.type, o.topic, o.seq::text as seq, w.pending, w.retry_count,
      w.error,
      to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
      to_char(w.dead_lettered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as dead_at
    from core.outbox_work w join core.outbox o on o.id = w.event_id
    where w.dead_lettered_at is not null and w.event_id > ${afterId}
    order by w.event_id
    limit ${limit}`);
  return rowsOf<{
    id: string;
    type: string;
    topic: string;
    seq: string;
    pending: string[] | null;
    retry_count: number;
    error: string | null;
    created_at: string;
    dead_at: string;
  }>(result).map((r) => ({
    id: Number(r.id),
    type: r.type,
    topic: r.topic,
    seq: Number(r.seq),
    pending: r.pending ?? [],
    retryCount: Number(r.retry_count),
    error: r.error,
    createdAt: r.created_at,
    deadLetteredAt: r.dead_at,
  }));
}

/** Makes dead letters due again with fresh attempts; all of them when `ids` is undefined. */
export async function redriveDeadLetters(
  executor: Executor,
  ids: readonly number[] | undefined,
): Promise<number> {
  const result = await executor.execute(sql`
    with redriven as (
      update core.outbox_work set dead_lettered_at = null, retry_count = 0, available_at = now()
      where dead_lettered_at is not null
        ${ids ? sql`and event_id = any(${arrayLiteral(ids)}::bigint[])` : sql``}
      returning event_id
    )
    select count(*)::int as count from redriven`);
  const count = Number(rowsOf<{ count: number }>(result)[0]?.count ?? 0);
  if (count > 0) await notifyWorkers(executor);
  return count;
}

/**
 * Deletes up to `limit` processed events written more than `olderThanSeconds` ago; returns how
 * many. Events with work left (dead letters included) stay.
 */
export async function deleteProcessed(
  executor: Executor,
  olderThanSeconds: number,
  limit: number,
): Promise<number> {
  const result = await executor.execute(sql`
    with doomed as (
      select o.id from core.outbox o
      where o.created_at < now() - make_interval(secs => ${olderThanSeconds}::float8)
        and not exists (select from core.outbox_work w where w.event_id = o.id)
      order by o.created_at
      limit ${limit}
    ), deleted as (
      delete from core.outbox o using doomed where o.id = doomed.id returning 1
    )
    select count(*)::int as count from deleted`);
  return Number(rowsOf<{ count: number }>(result)[0]?.count ?? 0);
}
