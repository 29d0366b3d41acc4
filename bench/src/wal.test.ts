import { describe, expect, it } from 'vitest';
import { parseLsn, walBytesPer } from './wal.js';

describe('WAL positions', () => {
  it('reads both halves of a position', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(parseLsn('2A/FF000010')).toBe((0x2an << 32n) + 0xff000010n);
    expect(() => parseLsn('16B3748')).toThrow(/not a WAL position/);
  });

  it('divides the bytes between two positions by the operations', () => {
    expect(walBytesPer(parseLsn('0/FFFFFF00'), parseLsn('1/00000100'), 2)).toBe(256);
    expect(walBytesPer(0n, 1000n, 0)).toBeNull();
  });
});
