// Idempotency-Key for POSTs: the first request with a key claims it (a committed row without a
// response), runs, and stores its response in its own transaction; a repeat with the same
// request gets that response again, a repeat with another request 422, and one that arrives
// while the first still runs 409. A failed request releases its key so a retry can run. Keys
// last a day; a claim whose request died without finishing is taken over after a minute.
import { createHash } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import type { Database } from '../../store/index.js';
import type { ChatContext } from '../context.js';
import { idempotencyKeys } from '../schema.js';

const KEEP = sql`interval '24 hours'`;
const ABANDONED_AFTER = sql`interval '60 seconds'`;

export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface IdempotencyClaim {
  /** Stores the response (call it inside the request's own transaction when there is one). */
  complete(db: Database, response: StoredResponse): Promise<void>;
  /** Frees the key after a failure, so the client's retry runs. */
  release(): Promise<void>;
}

export type IdempotencyOutcome =
  { readonly replay: StoredResponse } | { readonly claim: IdempotencyClaim };

/** JSON with object keys sorted, so the same request always hashes alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

export async function claimIdempotencyKey(
  ctx: Pick<ChatContext, 'db'>,
  userId: string,
  key: string,
  hash: string,
): Promise<IdempotencyOutcome> {
  const where = and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key));
  const claim: IdempotencyClaim = {
    async complete(db, response) {
      await db
        .update(idempotencyKeys)
        .set({ status: response.status, response: response.body })
        .where(where);
    },
    async release() {
      await ctx.db.delete(idempotencyKeys).where(and(where, isNull(idempotencyKeys.status)));
    },
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await ctx.db
      .insert(idempotencyKeys)
      .values({ userId, key, requestHash: hash })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length > 0) return { claim };
    const [row] = await ctx.db
      .select({
        requestHash: idempotencyKeys.requestHash,
        status: idempotencyKeys.status,
        response: idempotencyKeys.response,
        expired: sql<boolean>`${idempotencyKeys.createdAt} < now() - ${KEEP}`,
        abandoned: sql<boolean>`${idempotencyKeys.createdAt} < now() - ${ABANDONED_AFTER}`,
      })
      .from(idempotencyKeys)
      .where(where);
    if (!row) continue; // released in between: claim it again
    if (row.expired || (row.status === null && row.abandoned && row.requestHash === hash)) {
      // Take it over, unless another request did first (then look again).
      const taken = await ctx.db
        .update(idempotencyKeys)
        .set({ requestHash: hash, status: null, response: null, createdAt: sql`now()` })
        .where(
          and(
            where,
            sql`(${idempotencyKeys.createdAt} < now() - ${KEEP} or (${idempotencyKeys.status} is null
              and ${idempotencyKeys.createdAt} < now() - ${ABANDONED_AFTER}))`,
          ),
        )
        .returning({ key: idempotencyKeys.key });
      if (taken.length > 0) return { claim };
      continue;
    }
    if (row.requestHash !== hash) {
      throw new AppError('idempotency_key_reused');
    }
    if (row.status === null) throw new AppError('idempotency_in_flight');
    return { replay: { status: row.status, body: row.response } };
  }
  throw new AppError('idempotency_in_flight');
}
