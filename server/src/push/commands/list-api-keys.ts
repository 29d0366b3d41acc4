// Lists server API keys, newest first, without their hashes.
import { desc } from 'drizzle-orm';
import { apiKeys, type Database } from '../../store/index.js';
import { presentApiKey, type ApiKeyView } from '../presenters/api-key.js';

export async function listApiKeys(db: Database): Promise<ApiKeyView[]> {
  const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), apiKeys.id);
  return rows.map(presentApiKey);
}
