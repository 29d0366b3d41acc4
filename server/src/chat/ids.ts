// Entity ids: UUIDv7, time-ordered, so new rows land at the right end of every index.
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

// Random bytes drawn a few kilobytes at a time: one id per chat message, and asking the
// platform's generator for 16 bytes at a time cost more than the rest of the id.
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

function randomBytes16(): Uint8Array {
  if (poolOffset + 16 > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_BYTES));
    poolOffset = 0;
  }
  poolOffset += 16;
  return pool.subarray(poolOffset - 16, poolOffset);
}

// uuid's own monotonic state is only used when it draws the random bytes itself, so it is kept
// here the same way: ids made in one millisecond count up from a random start.
let lastMsecs = -Infinity;
let seq = 0;

export function newId(): string {
  const random = randomBytes16();
  const now = Date.now();
  if (now > lastMsecs) {
    lastMsecs = now;
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMsecs++;
  }
  return v7({ msecs: lastMsecs, seq, random });
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => uuidPattern.test(value);
