// Statement templates: built once per owner, values filled in per call, as named prepared
// statements or, with them turned off, unnamed ones.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestStore, target, type TestStore } from '../test-support/services.js';
import { rowsOf } from './migrate.js';
import { statementTemplate, usePreparedStatements } from './named-statements.js';

describe(`statement templates (${target})`, () => {
  let ts: TestStore;
  beforeAll(async () => {
    ts = await makeTestStore({ migrate: false });
  });
  afterAll(async () => {
    usePreparedStatements(true);
    await ts.cleanup();
  });

  it('builds once per owner and runs with each call’s values, prepared or not', async () => {
    const builds: string[] = [];
    const echo = statementTemplate<{ label: string }, { n: number; word: string | null }>(
      'test_echo',
      (owner, v) => {
        builds.push(owner.label);
        return sql`select ${v.n}::int * 2 as twice, coalesce(${v.word}::text, 'none') as word,
          ${owner.label}::text as label`;
      },
    );
    const first = { label: 'first' };
    const second = { label: 'second' };
    const run = async (owner: { label: string }, n: number, word: string | null) =>
      rowsOf<{ twice: number; word: string; label: string }>(
        await echo(owner, ts.store.db, { n, word }),
      )[0];

    expect(await run(first, 1, 'a')).toEqual({ twice: 2, word: 'a', label: 'first' });
    expect(await run(first, 21, null)).toEqual({ twice: 42, word: 'none', label: 'first' });
    expect(await run(second, 3, 'b')).toEqual({ twice: 6, word: 'b', label: 'second' });
    usePreparedStatements(false);
    expect(await run(first, 5, 'c')).toEqual({ twice: 10, word: 'c', label: 'first' });
    usePreparedStatements(true);
    expect(builds).toEqual(['first', 'second']);
  });
});
