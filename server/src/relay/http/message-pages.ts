// Message lists for the admin console and the portal: keyset pages, newest first, of one
// account's (or conversation's, or everyone's) inbound and outbound messages.
import { and, desc, eq, getTableColumns, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../../store/index.js';
import {
  bodyOfMessage,
  inboundRowColumns,
  type InboundRow as InboundMessage,
} from '../messages/inbound-rows.js';
import { inboundMessageBodies, inboundMessages, outboundMessages } from '../schema.js';
import {
  cursorTime,
  decodeCursor,
  isoOrNull,
  olderThan,
  toCursorPage,
  UUID_PATTERN,
  type CursorPage,
} from './pages.js';

export const INBOUND_STATUSES = ['queued', 'delivered', 'acked', 'expired'] as const;
export const OUTBOUND_STATUSES = ['pending', 'sent', 'failed'] as const;

export interface MessageFilter {
  readonly accountId?: string | undefined;
  readonly conversationKey?: string | undefined;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

type InboundRow = InboundMessage & { cursorAt: string };
type OutboundRow = typeof outboundMessages.$inferSelect & { cursorAt: string };

export async function pageInbound<T>(
  db: Database,
  filter: MessageFilter & { status?: (typeof INBOUND_STATUSES)[number] | undefined },
  page: PageRequest,
  present: (row: InboundRow) => T,
): Promise<CursorPage<T>> {
  const t = inboundMessages;
  const rows = await db
    .select({ ...inboundRowColumns, cursorAt: cursorTime(t.createdAt) })
    .from(t)
    .innerJoin(inboundMessageBodies, bodyOfMessage)
    .where(pageFilter(t, filter, page))
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(page.limit + 1);
  return toCursorPage(rows as InboundRow[], page.limit, present);
}

export async function pageOutbound<T>(
  db: Database,
  filter: MessageFilter & { status?: (typeof OUTBOUND_STATUSES)[number] | undefined },
  page: PageRequest,
  present: (row: OutboundRow) => T,
): Promise<CursorPage<T>> {
  const t = outboundMessages;
  const rows = await db
    .select({ ...getTableColumns(t), cursorAt: cursorTime(t.createdAt) })
    .from(t)
    .where(pageFilter(t, filter, page))
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(page.limit + 1);
  return toCursorPage(rows as OutboundRow[], page.limit, present);
}

/** The columns both message tables filter and page by. */
interface MessageColumns {
  readonly id: AnyPgColumn;
  readonly accountId: AnyPgColumn;
  readonly conversationKey: AnyPgColumn;
  readonly status: AnyPgColumn;
  readonly createdAt: AnyPgColumn;
}

function pageFilter(
  t: MessageColumns,
  filter: MessageFilter & { status?: string | undefined },
  page: PageRequest,
): SQL | undefined {
  const where: SQL[] = [];
  if (filter.accountId) where.push(eq(t.accountId, filter.accountId));
  if (filter.conversationKey) where.push(eq(t.conversationKey, filter.conversationKey));
  if (filter.status) where.push(eq(t.status, filter.status));
  if (page.cursor)
    where.push(olderThan(t.createdAt, t.id, decodeCursor(page.cursor, UUID_PATTERN)));
  return and(...where);
}

/** The text a person reads: the user's utterance, or the reply's simpleText outputs. */
export function inboundText(row: Pick<InboundRow, 'normalizedMessage'>): string {
  const normalized = row.normalizedMessage as { text?: unknown } | null;
  return typeof normalized?.text === 'string' ? normalized.text : '';
}

export function outboundText(row: Pick<OutboundRow, 'responsePayload'>): string {
  const outputs = (row.responsePayload as { template?: { outputs?: unknown } } | null)?.template
    ?.outputs;
  if (Array.isArray(outputs)) {
    const texts = outputs
      .map((o) => (o as { simpleText?: { text?: unknown } } | null)?.simpleText?.text)
      .filter((text): text is string => typeof text === 'string');
    if (texts.length > 0) return texts.join('\n');
  }
  return JSON.stringify(row.responsePayload ?? null).slice(0, 1000);
}

/** The operator's view of an inbound message (no callback URL: it is a one-time capability). */
export function presentInboundForAdmin(row: InboundRow) {
  return {
    id: row.id,
    accountId: row.accountId,
    conversationKey: row.conversationKey,
    status: row.status,
    text: inboundText(row),
    normalized: row.normalizedMessage,
    eventSeq: row.eventSeq,
    hasCallback: row.callbackUrl !== null,
    callbackExpiresAt: isoOrNull(row.callbackExpiresAt),
    callbackUsedAt: isoOrNull(row.callbackUsedAt),
    createdAt: row.createdAt.toISOString(),
    deliveredAt: isoOrNull(row.deliveredAt),
    ackedAt: isoOrNull(row.ackedAt),
    expiredAt: isoOrNull(row.expiredAt),
  };
}

export function presentOutboundForAdmin(row: OutboundRow) {
  return {
    id: row.id,
    accountId: row.accountId,
    inboundMessageId: row.inboundMessageId,
    conversationKey: row.conversationKey,
    status: row.status,
    text: outboundText(row),
    responsePayload: row.responsePayload,
    kakaoStatus: row.kakaoStatus,
    errorMessage: row.errorMessage,
    createdAt: row.createdAt.toISOString(),
    sentAt: isoOrNull(row.sentAt),
  };
}

/** The owner's view: one shape for both directions. */
export function presentInboundForPortal(row: InboundRow) {
  return {
    id: row.id,
    conversationKey: row.conversationKey,
    direction: 'inbound' as const,
    content: inboundText(row),
    status: row.status,
    createdAt: row.createdAt.toISOString(),
  };
}

export function presentOutboundForPortal(row: OutboundRow) {
  return {
    id: row.id,
    conversationKey: row.conversationKey,
    direction: 'outbound' as const,
    content: outboundText(row),
    status: row.status,
    errorMessage: row.errorMessage,
    createdAt: row.createdAt.toISOString(),
  };
}
