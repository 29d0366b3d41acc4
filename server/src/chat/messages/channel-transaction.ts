// Writes inside a channel. Each runs in one pipeline transaction that first locks the channel's
// row and then its topic's seq row (core.topic_seqs), before any message or member row, so the
// message commands take their locks in one order (the channel commands also change the channel
// row before appending their event) and cannot deadlock one another. The seq row lock also tells
// `sendMessage` which seq its `message.created` event will get, so the message JSON inside the
// event can carry it. A deadlock with some other order, or the first event of a channel racing
// another writer, rolls the transaction back and runs it again.
import { sql } from 'drizzle-orm';
import type { OutboxWriter } from '../../pipeline/index.js';
import { isRetryableConflict, rowsOf, type Executor, type Transaction } from '../../store/index.js';
import type { ChatContext } from '../context.js';
import { channelTopic } from '../topics.js';

const ATTEMPTS = 3;

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

/** Locks the channel row, then its seq row; returns the topic's last seq (0 before any event). */
export async function lockChannel(tx: Executor, channelId: string): Promise<number> {
  await tx.execute(sql`select id from chat.channels where id = ${channelId} for update`);
  const result = await tx.execute(
    sql`select last_seq from core.topic_seqs where topic = ${channelTopic(channelId)} for update`,
  );
  const row = rowsOf<{ last_seq: string | number }>(result)[0];
  return row ? Number(row.last_seq) : 0;
}

/**
 * Runs a transaction again after a deadlock, a serialization failure or a seq race, a few times,
 * so none of them reaches the client.
 */
export async function retryingConflicts<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt < ATTEMPTS && (err instanceof SeqRaceError || isRetryableConflict(err))) continue;
      throw err;
    }
  }
}

/** Runs `work` in a transaction holding the channel's write locks; `lastSeq` is the topic's. */
export function channelTransaction<T>(
  ctx: Pick<ChatContext, 'pipeline'>,
  channelId: string,
  work: (tx: Transaction, outbox: OutboxWriter, lastSeq: number) => Promise<T>,
): Promise<T> {
  return retryingConflicts(() =>
    ctx.pipeline.transaction(async (tx, outbox) =>
      work(tx, outbox, await lockChannel(tx, channelId)),
    ),
  );
}
