// Runs a statement under EXPLAIN (ANALYZE, BUFFERS), for tests that check how much a query reads.
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Executor } from '../store/index.js';

/** The plan's lines; the statement really runs (an UPDATE updates). */
export async function explainAnalyze(executor: Executor, statement: SQL): Promise<string[]> {
  const rows = rowsOf<{ 'QUERY PLAN': string }>(
    await executor.execute(sql`explain (analyze, buffers) ${statement}`),
  );
  return rows.map((r) => r['QUERY PLAN']);
}

/**
 * Shared buffers (hit and read) of the first node at or after line `from` that reports them: from
 * the top line, the whole statement's.
 */
export function buffersOf(plan: readonly string[], from = 0): number {
  for (const line of plan.slice(from)) {
    const match = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(line);
    if (match) return Number(match[1]) + Number(match[2] ?? 0);
  }
  throw new Error(`no buffer counts in the plan:\n${plan.join('\n')}`);
}
