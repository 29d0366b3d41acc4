// The hot statements as named prepared statements: PostgreSQL parses and plans each once per
// connection instead of on every call (planning was two thirds of the database time of a chat
// post and half of a webhook's). PgBouncer in transaction mode cannot keep them before 1.21 (or
// without max_prepared_statements), so DATABASE_PREPARED_STATEMENTS turns them off; one process
// talks to one database, so the switch is the process's.
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { Executor } from './database.js';

let enabled = true;

export function usePreparedStatements(on: boolean): void {
  enabled = on;
}

/** Whether hot statements may be named prepared statements (see `DATABASE_PREPARED_STATEMENTS`). */
export function preparedStatementsEnabled(): boolean {
  return enabled;
}

interface PreparingExecutor {
  readonly dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  readonly session: {
    prepareQuery(
      query: { sql: string; params: unknown[] },
      fields: undefined,
      name: string | undefined,
      isResponseInArrayMode: boolean,
    ): { execute(values?: Record<string, unknown>): Promise<unknown> };
  };
}

/**
 * Runs `query` as the prepared statement `name` (through Drizzle's own preparing, which both
 * drivers implement; PGlite ignores the name). One name must always stand for one SQL text:
 * a statement with variants needs a name per variant.
 */
export function executeNamed(executor: Executor, name: string, query: SQL): Promise<unknown> {
  const { dialect } = executor as unknown as PreparingExecutor;
  return runPrepared(executor, dialect.sqlToQuery(query), name);
}

type CompiledQuery = { sql: string; params: unknown[] };

/** Runs a compiled query as the prepared statement `name`, or unnamed when they are off. */
function runPrepared(
  executor: Executor,
  query: CompiledQuery,
  name: string,
  values?: Record<string, unknown>,
): Promise<unknown> {
  const { session } = executor as unknown as PreparingExecutor;
  return session.prepareQuery(query, undefined, enabled ? name : undefined, false).execute(values);
}

/** A placeholder for each value a statement template takes per call. */
export type Placeholders<V> = { readonly [K in keyof V]: Placeholder<K & string> };

const placeholders = new Proxy(
  {},
  { get: (_target, key) => (typeof key === 'string' ? sql.placeholder(key) : undefined) },
);

/**
 * A hot statement built and compiled once per owner, with a placeholder for every value that
 * changes from call to call; each call only fills them in. `build` may read fixed settings
 * from the owner (the module context whose life the statement shares) as values it binds, never
 * as text: one name, one SQL text. Runs as the prepared statement `name` like `executeNamed`.
 */
export function statementTemplate<O extends object, V extends Record<string, unknown>>(
  name: string,
  build: (owner: O, values: Placeholders<V>) => SQL,
): (owner: O, executor: Executor, values: V) => Promise<unknown> {
  const compiled = new WeakMap<O, CompiledQuery>();
  return (owner, executor, values) => {
    let query = compiled.get(owner);
    if (!query) {
      const { dialect } = executor as unknown as PreparingExecutor;
      query = dialect.sqlToQuery(build(owner, placeholders as Placeholders<V>));
      compiled.set(owner, query);
    }
    return runPrepared(executor, query, name, values);
  };
}
