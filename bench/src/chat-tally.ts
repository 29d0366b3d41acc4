// (E) team chat: what the load generator puts in each message and how it accounts for every
// delivery. Message n is sent by user n mod users into that user's channel; each member of the
// channel has a slot there, so one byte per (message, slot) tells what arrived and what twice.
import { numberAfter } from './harness.js';

/** The send time sits in the message text, the only part of a `message.created` the client writes. */
const SENT_AT_KEY = Buffer.from('"body":"bench t=');
const NUMBER_KEY = Buffer.from(' n=');
const TEMP_ID_KEY = Buffer.from('"temp_id":"b');

/** The `send` op for message `n`: its text carries the send time (performance.now(), ms). */
export function sendFrame(channelId: string, n: number, sentAt: number): string {
  return `{"op":"send","id":${n},"conversation_id":"${channelId}","temp_id":"b${n}","body":"bench t=${sentAt} n=${n}"}`;
}

/** The send time and number of a `message.created` event the load generator sent; NaN otherwise. */
export function readChatMessage(frame: Buffer): { sentAt: number; n: number } {
  const sentAt = numberAfter(frame, SENT_AT_KEY);
  if (Number.isNaN(sentAt)) return { sentAt, n: Number.NaN };
  return { sentAt, n: numberAfter(frame, NUMBER_KEY) };
}

/** The message number a `send` reply acknowledges (its temp_id), NaN if none. */
export function acknowledgedNumber(frame: Buffer): number {
  return numberAfter(frame, TEMP_ID_KEY);
}

function grown(array: Uint8Array, size: number): Uint8Array {
  if (size <= array.length) return array;
  let length = Math.max(1024, array.length);
  while (length < size) length *= 2;
  const bigger = new Uint8Array(length);
  bigger.set(array);
  return bigger;
}

/**
 * Deliveries of chat messages against the sends the server acknowledged (committed). A message
 * is expected at every slot of its channel, the sender's own connection included: the protocol
 * promises the event to every subscriber.
 */
export class ChatTally {
  private acked: Uint8Array = new Uint8Array(1024);
  private seen: Uint8Array = new Uint8Array(1024);
  private ackedCount = 0;
  /** Expected deliveries of acknowledged messages not yet seen. */
  private missing = 0;
  deliveries = 0;
  duplicates = 0;
  /** Deliveries that named no message or slot the load generator could have sent to. */
  unknown = 0;

  constructor(readonly slots: number) {}

  committed(n: number): void {
    if (!Number.isInteger(n) || n < 0) return;
    this.acked = grown(this.acked, n + 1);
    this.seen = grown(this.seen, (n + 1) * this.slots);
    if (this.acked[n]) return;
    this.acked[n] = 1;
    this.ackedCount++;
    const base = n * this.slots;
    for (let s = 0; s < this.slots; s++) if (!this.seen[base + s]) this.missing++;
  }

  delivered(n: number, slot: number): void {
    this.deliveries++;
    if (!Number.isInteger(n) || n < 0 || slot < 0 || slot >= this.slots) {
      this.unknown++;
      return;
    }
    this.acked = grown(this.acked, n + 1);
    this.seen = grown(this.seen, (n + 1) * this.slots);
    const at = n * this.slots + slot;
    if (this.seen[at]) {
      this.duplicates++;
      return;
    }
    this.seen[at] = 1;
    if (this.acked[n]) this.missing--;
  }

  /** Every acknowledged message has reached every member. */
  complete(): boolean {
    return this.missing === 0;
  }

  get committedCount(): number {
    return this.ackedCount;
  }

  summary(): {
    committed: number;
    deliveries: number;
    lost: number;
    duplicates: number;
    unknown: number;
    deliveredButNotAcknowledged: number;
  } {
    let unacknowledged = 0;
    for (let at = 0; at < this.seen.length; at++) {
      if (this.seen[at] && !this.acked[Math.floor(at / this.slots)]) unacknowledged++;
    }
    return {
      committed: this.ackedCount,
      deliveries: this.deliveries,
      lost: this.missing,
      duplicates: this.duplicates,
      unknown: this.unknown,
      deliveredButNotAcknowledged: unacknowledged,
    };
  }
}
