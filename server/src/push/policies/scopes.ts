// What a server API key may do. `admin` implies every other scope.
import { z } from 'zod';

export const apiKeyScopes = ['publish', 'push', 'broadcast', 'admin'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** Scopes a new key gets when none are named: everything except `admin`. */
export const defaultApiKeyScopes: readonly ApiKeyScope[] = ['publish', 'push', 'broadcast'];

export const apiKeyScopeSchema = z.enum(apiKeyScopes);

export function hasScope(granted: readonly string[], needed: ApiKeyScope): boolean {
  return granted.includes(needed) || granted.includes('admin');
}
