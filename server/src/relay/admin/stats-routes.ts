// Admin: the relay at a glance, in one round trip. "Today" is the UTC day; "week" the last
// seven days.
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { rowsOf } from '../../store/index.js';
import type { RelayContext } from '../context.js';

export function registerAdminStatsRoutes(scope: FastifyInstance, ctx: RelayContext): void {
  scope.get('/stats', async () => {
    const now = new Date(ctx.now()).toISOString();
    const result = await ctx.db.execute(sql`
      with bounds as (
        select date_trunc('day', ${now}::timestamptz at time zone 'UTC') at time zone 'UTC' as today,
          ${now}::timestamptz - interval '7 days' as week
      )
      select
        (select count(*) from relay.accounts)::int as accounts,
        (select count(*) from relay.conversation_mappings where state = 'paired')::int as mappings,
        (select count(*) from relay.sessions
          where status = 'pending_pairing' and expires_at > ${now}::timestamptz)::int as sessions_pending,
        (select count(*) from relay.sessions where status = 'paired')::int as sessions_paired,
        (select count(*) from relay.sessions)::int as sessions_total,
        (select count(*) from relay.inbound_messages, bounds where created_at >= bounds.today)::int
          as inbound_today,
        (select count(*) from relay.inbound_messages, bounds where created_at >= bounds.week)::int
          as inbound_week,
        (select count(*) from relay.inbound_messages where status = 'queued')::int as inbound_queued,
        (select count(*) from relay.outbound_messages, bounds where created_at >= bounds.today)::int
          as outbound_today,
        (select count(*) from relay.outbound_messages, bounds where created_at >= bounds.week)::int
          as outbound_week,
        (select count(*) from relay.outbound_messages where status = 'failed')::int as outbound_failed`);
    const r = rowsOf<Record<string, number>>(result)[0] ?? {};
    const n = (key: string) => Number(r[key] ?? 0);
    return {
      accounts: n('accounts'),
      mappings: n('mappings'),
      sessions: {
        pending: n('sessions_pending'),
        paired: n('sessions_paired'),
        total: n('sessions_total'),
      },
      messages: {
        inbound: {
          today: n('inbound_today'),
          week: n('inbound_week'),
          queued: n('inbound_queued'),
        },
        outbound: {
          today: n('outbound_today'),
          week: n('outbound_week'),
          failed: n('outbound_failed'),
        },
      },
    };
  });
}
