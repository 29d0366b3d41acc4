// Admin: inbound and outbound messages (keyset pages with filters) and the dead letters — replies
// Kakao refused, messages no agent took in time, and relay events the outbox gave up on.
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { deadLettersUnder } from '../../pipeline/index.js';
import { rowsOf } from '../../store/index.js';
import type { RelayContext } from '../context.js';
import { RELAY_TOPIC_PREFIX } from '../topics.js';
import {
  INBOUND_STATUSES,
  OUTBOUND_STATUSES,
  pageInbound,
  pageOutbound,
  presentInboundForAdmin,
  presentOutboundForAdmin,
} from '../http/message-pages.js';
import { cursorPageQuery, decodeCursor, encodeCursor } from '../http/pages.js';

const filters = cursorPageQuery.extend({
  accountId: z.uuid().optional(),
  conversationKey: z.string().min(1).max(500).optional(),
});
export const inboundQuery = filters.extend({ status: z.enum(INBOUND_STATUSES).optional() });
export const outboundQuery = filters.extend({ status: z.enum(OUTBOUND_STATUSES).optional() });

const DEAD_LETTER_ID = /^(inbound|outbound):[0-9a-f-]{36}$|^outbox:\d{20}$/;

interface DeadLetterRow {
  kind: 'inbound' | 'outbound' | 'outbox';
  id: string;
  sort_id: string;
  account_id: string | null;
  conversation_key: string | null;
  topic: string | null;
  type: string | null;
  text: string | null;
  error: string | null;
  retry_count: number | null;
  created_at: Date | string;
  cursor_at: string;
}

export function registerAdminMessageRoutes(scope: FastifyInstance, ctx: RelayContext): void {
  scope.get('/messages/inbound', async (request) => {
    const query = inboundQuery.parse(request.query);
    return pageInbound(ctx.db, query, query, presentInboundForAdmin);
  });

  scope.get('/messages/outbound', async (request) => {
    const query = outboundQuery.parse(request.query);
    return pageOutbound(ctx.db, query, query, presentOutboundForAdmin);
  });

  scope.get('/dead-letters', async (request) => {
    const query = cursorPageQuery.parse(request.query);
    const cursor = query.cursor ? decodeCursor(query.cursor, DEAD_LETTER_ID) : undefined;
    // One newest-first stream over three sources; the sort id (kind and id) breaks ties.
    const result = await ctx.db.execute(sql`
      select d.*,
        to_char(d.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
      from (
        select 'outbound' as kind, o.id::text as id, 'outbound:' || o.id::text as sort_id,
          o.account_id::text as account_id, o.conversation_key, null::text as topic,
          o.kakao_status as type, null::text as text, o.error_message as error,
          null::int as retry_count, o.created_at
        from relay.outbound_messages o where o.status = 'failed'
        union all
        select 'inbound', i.id::text, 'inbound:' || i.id::text, i.account_id::text,
          i.conversation_key, null, null, b.normalized_message->>'text', null, null, i.created_at
        from relay.inbound_messages i
        join relay.inbound_message_bodies b on b.message_id = i.id
        where i.status = 'expired'
        union all
        select 'outbox', x.id, 'outbox:' || lpad(x.id, 20, '0'), null, null, x.topic, x.type,
          null, x.error, x.retry_count, x.created_at
        from (${deadLettersUnder(RELAY_TOPIC_PREFIX)}) x
      ) d
      where ${
        cursor
          ? sql`(d.created_at, d.sort_id) < (${cursor.at}::timestamptz, ${cursor.id}::text)`
          : sql`true`
      }
      order by d.created_at desc, d.sort_id desc
      limit ${query.limit + 1}`);
    const rows = rowsOf<DeadLetterRow>(result);
    const page = rows.slice(0, query.limit);
    const items = page.map((r) => ({
      kind: r.kind,
      id: r.id,
      accountId: r.account_id,
      conversationKey: r.conversation_key,
      topic: r.topic,
      type: r.type,
      text: r.text,
      error: r.error,
      retryCount: r.retry_count === null ? null : Number(r.retry_count),
      createdAt: new Date(r.created_at).toISOString(),
    }));
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > query.limit && last
        ? encodeCursor({ at: last.cursor_at, id: last.sort_id })
        : null;
    return { items, nextCursor };
  });
}
