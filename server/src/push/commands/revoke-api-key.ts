// Revokes a server API key by id or prefix. Idempotent: revoking twice keeps the first time.
import { eq, sql } from 'drizzle-orm';
import { apiKeys, type Database } from '../../store/index.js';
import { presentApiKey, type ApiKeyView } from '../presenters/api-key.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const prefixPattern = /^(?:sbk_)?([0-9a-f]{12})$/;

/** What `revoke` accepts: an id (uuid), a prefix as listed (`sbk_…`), or the bare prefix. */
export function isApiKeyReference(reference: string): boolean {
  return uuidPattern.test(reference) || prefixPattern.test(reference);
}

/** Returns the revoked key, or undefined when no key has that id or prefix. */
export async function revokeApiKey(
  db: Database,
  reference: string,
): Promise<ApiKeyView | undefined> {
  const prefix = prefixPattern.exec(reference)?.[1];
  const where = uuidPattern.test(reference)
    ? eq(apiKeys.id, reference.toLowerCase())
    : prefix
      ? eq(apiKeys.prefix, prefix)
      : undefined;
  if (!where) return undefined;
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(where)
    .returning();
  return row ? presentApiKey(row) : undefined;
}
