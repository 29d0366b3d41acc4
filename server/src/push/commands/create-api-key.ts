// Creates a server API key and returns it in full, the only time it is ever available.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { apiKeys, type Database } from '../../store/index.js';
import { generateApiKey } from '../api-key-format.js';
import { apiKeyScopeSchema, defaultApiKeyScopes } from '../policies/scopes.js';
import { presentApiKey, type ApiKeyView } from '../presenters/api-key.js';

export const createApiKeyInput = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z
    .array(apiKeyScopeSchema)
    .min(1)
    .default([...defaultApiKeyScopes])
    .transform((scopes) => [...new Set(scopes)]),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

export async function createApiKey(
  db: Database,
  input: CreateApiKeyInput,
): Promise<ApiKeyView & { key: string }> {
  const { name, scopes } = createApiKeyInput.parse(input);
  const generated = generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: randomUUID(),
      name,
      prefix: generated.prefix,
      keyHash: generated.hash,
      scopes,
    })
    .returning();
  return { ...presentApiKey(row!), key: generated.key };
}
