// API key rows → what operators see. The hash never leaves the store.
import type { apiKeys } from '../../store/index.js';
import { displayPrefix } from '../api-key-format.js';

export interface ApiKeyView {
  id: string;
  name: string;
  /** `sbk_<prefix>`: the start of the key, to recognise it. */
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function presentApiKey(row: typeof apiKeys.$inferSelect): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: displayPrefix(row.prefix),
    scopes: row.scopes,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}
