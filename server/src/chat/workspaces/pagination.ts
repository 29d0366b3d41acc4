// Keyset pagination for chat collections: `{ items, nextCursor }`, where the cursor is the sort
// key of the last item, base64url-encoded JSON, so pages never skip or repeat rows that move.
import { z } from 'zod';
import { AppError } from '../../http/index.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const pageQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function encodeCursor(key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries, checked against `shape`; a foreign cursor is a 400. */
export function decodeCursor<T>(cursor: string | undefined, shape: z.ZodType<T>): T | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    return shape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new AppError('invalid_request', 'cursor: not a cursor this list returned.');
  }
}

/** Builds a page from up to `limit + 1` rows: the extra row only says another page exists. */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  present: (row: R) => T,
  keyOf: (row: R) => readonly unknown[],
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(present),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
