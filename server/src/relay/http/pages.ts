// Paging for console lists: small tables page by limit/offset with a total; message tables,
// which grow without bound, page by keyset on (created_at, id), newest first, with an opaque
// cursor that carries the last row's exact (microsecond) time and id.
import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { AppError } from '../../http/index.js';

export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 100;

const limit = z.coerce.number().int().min(1).max(PAGE_MAX).default(PAGE_DEFAULT);

export const offsetPageQuery = z.object({
  limit,
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const cursorPageQuery = z.object({
  limit,
  cursor: z.string().max(200).optional(),
});

export interface Cursor {
  /** RFC 3339 with microseconds, as PostgreSQL printed it. */
  readonly at: string;
  readonly id: string;
}

const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

/** The cursor a client sent back; 400 for anything this server did not make. */
export function decodeCursor(text: string, idPattern: RegExp): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[0] === 'string' &&
    typeof parsed[1] === 'string' &&
    TIME_PATTERN.test(parsed[0]) &&
    idPattern.test(parsed[1])
  ) {
    return { at: parsed[0], id: parsed[1] };
  }
  throw new AppError('invalid_request', 'Invalid cursor');
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A timestamp column as the cursor's time text. */
export function cursorTime(column: AnyPgColumn | SQL): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Rows strictly after `cursor` in newest-first order of (time, id). */
export function olderThan(time: AnyPgColumn, id: AnyPgColumn, cursor: Cursor): SQL {
  return sql`(${time}, ${id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`;
}

export interface CursorPage<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** Turns `limit + 1` fetched rows into a page and the cursor of its last row. */
export function toCursorPage<R extends { cursorAt: string; id: string }, T>(
  rows: R[],
  pageSize: number,
  present: (row: R) => T,
): CursorPage<T> {
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    items: page.map(present),
    nextCursor:
      rows.length > pageSize && last ? encodeCursor({ at: last.cursorAt, id: last.id }) : null,
  };
}

export const isoOrNull = (date: Date | null | undefined): string | null =>
  date ? date.toISOString() : null;
