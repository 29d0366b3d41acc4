// Portal statistics: an owner's account, or one conversation for an access-code session.
// "Today" is the UTC day.
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Database } from '../../store/index.js';

const RECENT_ERRORS = 5;

function todayStart(now: number): string {
  const day = new Date(now);
  day.setUTCHours(0, 0, 0, 0);
  return day.toISOString();
}

export async function accountStats(db: Database, accountId: string, now: number) {
  const today = todayStart(now);
  const [counts] = rowsOf<Record<string, number | string | Date | null>>(
    await db.execute(sql`
      select
        (select count(*) from relay.conversation_mappings
          where account_id = ${accountId} and state in ('paired', 'blocked'))::int as connections_total,
        (select count(*) from relay.conversation_mappings
          where account_id = ${accountId} and state = 'paired')::int as connections_paired,
        (select count(*) from relay.conversation_mappings
          where account_id = ${accountId} and state = 'blocked')::int as connections_blocked,
        ${messageCounts(sql`account_id = ${accountId}`, today)}`),
  );
  const errors = rowsOf<{
    id: string;
    conversation_key: string;
    error_message: string | null;
    created_at: Date | string;
  }>(
    await db.execute(sql`
      select id, conversation_key, error_message, created_at from relay.outbound_messages
      where account_id = ${accountId} and status = 'failed'
      order by created_at desc limit ${RECENT_ERRORS}`),
  );
  const n = (key: string) => Number(counts?.[key] ?? 0);
  return {
    connections: {
      total: n('connections_total'),
      paired: n('connections_paired'),
      blocked: n('connections_blocked'),
    },
    messages: presentMessageCounts(n),
    recentErrors: errors.map((e) => ({
      id: e.id,
      conversationKey: e.conversation_key,
      errorMessage: e.error_message,
      createdAt: new Date(e.created_at).toISOString(),
    })),
    lastActivity: lastActivityOf(counts),
  };
}

export async function conversationStats(db: Database, conversationKey: string, now: number) {
  const today = todayStart(now);
  const [counts] = rowsOf<Record<string, number | string | Date | null>>(
    await db.execute(sql`
      select
        (select state::text from relay.conversation_mappings
          where conversation_key = ${conversationKey}) as state,
        (select paired_at from relay.conversation_mappings
          where conversation_key = ${conversationKey}) as paired_at,
        ${messageCounts(sql`conversation_key = ${conversationKey}`, today)}`),
  );
  const n = (key: string) => Number(counts?.[key] ?? 0);
  const pairedAt = counts?.paired_at;
  return {
    conversationKey,
    state: typeof counts?.state === 'string' ? counts.state : 'unpaired',
    pairedAt: pairedAt ? new Date(pairedAt).toISOString() : null,
    messages: presentMessageCounts(n),
    lastActivity: lastActivityOf(counts),
  };
}

function messageCounts(scope: SQL, today: string): SQL {
  return sql`
    (select count(*) from relay.inbound_messages where ${scope} and created_at >= ${today}::timestamptz)::int as inbound_today,
    (select count(*) from relay.inbound_messages where ${scope})::int as inbound_total,
    (select count(*) from relay.inbound_messages where ${scope} and status = 'queued')::int as inbound_queued,
    (select count(*) from relay.inbound_messages where ${scope} and status = 'expired')::int as inbound_expired,
    (select count(*) from relay.outbound_messages where ${scope} and created_at >= ${today}::timestamptz)::int as outbound_today,
    (select count(*) from relay.outbound_messages
      where ${scope} and created_at >= ${today}::timestamptz and status = 'failed')::int as outbound_today_failed,
    (select count(*) from relay.outbound_messages where ${scope})::int as outbound_total,
    (select count(*) from relay.outbound_messages where ${scope} and status = 'sent')::int as outbound_sent,
    (select count(*) from relay.outbound_messages where ${scope} and status = 'failed')::int as outbound_failed,
    greatest(
      (select max(created_at) from relay.inbound_messages where ${scope}),
      (select max(created_at) from relay.outbound_messages where ${scope})
    ) as last_activity`;
}

function presentMessageCounts(n: (key: string) => number) {
  return {
    inbound: {
      today: n('inbound_today'),
      total: n('inbound_total'),
      queued: n('inbound_queued'),
      expired: n('inbound_expired'),
    },
    outbound: {
      today: n('outbound_today'),
      todayFailed: n('outbound_today_failed'),
      total: n('outbound_total'),
      sent: n('outbound_sent'),
      failed: n('outbound_failed'),
    },
  };
}

function lastActivityOf(row: Record<string, unknown> | undefined): string | null {
  const value = row?.last_activity;
  return value ? new Date(value as string).toISOString() : null;
}
