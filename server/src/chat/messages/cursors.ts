// Opaque cursors (base64url JSON). Message windows move by seq, so their cursors hold a seq, and
// a plain seq is accepted wherever a window cursor is.
import { AppError } from '../../http/index.js';

export function encodeCursor(value: Record<string, number | string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor(cursor: string, field: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // reported below
  }
  throw new AppError('invalid_request', `${field}: not a cursor this server issued`);
}

export const seqCursor = (seq: number): string => encodeCursor({ seq });

/** A seq given as digits or as a cursor from a previous page. */
export function parseSeq(value: string, field: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const { seq } = decodeCursor(value, field);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new AppError('invalid_request', `${field}: not a cursor this server issued`);
  }
  return seq;
}
