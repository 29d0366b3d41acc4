// Ordering of writes inside a channel. Every message command locks the channel topic's seq row
// (core.topic_seqs) before any chat row, so commands that append to the channel and touch the
// same messages always take their locks in one order and cannot deadlock; and the lock tells
// `sendMessage` which seq its `message.created` event will get, so the message JSON inside the
// event can carry it.
import { sql } from 'drizzle-orm';
import { rowsOf, type Executor } from '../../store/index.js';
import { channelTopic } from '../topics.js';

/** Locks the channel's seq row for the transaction; returns its last seq (0 before any event). */
export async function lockChannelSeq(tx: Executor, channelId: string): Promise<number> {
  const result = await tx.execute(
    sql`select last_seq from core.topic_seqs where topic = ${channelTopic(channelId)} for update`,
  );
  const row = rowsOf<{ last_seq: string | number }>(result)[0];
  return row ? Number(row.last_seq) : 0;
}

/**
 * The channel had no seq row to lock and another writer created it first: the predicted seq
 * was taken, so the transaction is rolled back and run again (the row exists then).
 */
export class SeqRaceError extends Error {
  constructor() {
    super('the channel topic got its first event concurrently');
    this.name = 'SeqRaceError';
  }
}
