// Reads the outbox the way tests ask about it: is an event processed (no work left on it)?
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Executor } from '../store/index.js';

/** Whether each event `where` selects (on `core.outbox o`) is processed, in id order. */
export async function processedFlags(executor: Executor, where: SQL): Promise<boolean[]> {
  const rows = rowsOf<{ processed: boolean }>(
    await executor.execute(sql`
      select not exists (select from core.outbox_work w where w.event_id = o.id) as processed
      from core.outbox o where ${where} order by o.id`),
  );
  return rows.map((r) => r.processed);
}
