// Checks `Authorization: Bearer sbk_…` against core.api_keys. Rows are cached for a few seconds,
// so a busy caller costs no query per request; a revoke therefore reaches other nodes within
// `cacheMs`, and this node at once when it revokes through `forget`.
import { eq } from 'drizzle-orm';
import { AppError } from '../http/index.js';
import type { Logger } from '../observability/index.js';
import { apiKeys, type Database } from '../store/index.js';
import { apiKeyMatches, displayPrefix, parseApiKey } from './api-key-format.js';
import { hasScope, type ApiKeyScope } from './policies/scopes.js';

/** The caller behind a verified key. */
export interface ApiKeyPrincipal {
  readonly id: string;
  readonly name: string;
  /** Display form, `sbk_<prefix>`. */
  readonly prefix: string;
  readonly scopes: readonly string[];
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  revokedAt: Date | null;
}

interface CacheEntry {
  /** Null: no key has this prefix (cached too, so junk keys cost no query each). */
  row: KeyRow | null;
  expiresAt: number;
}

export interface ApiKeyVerifierOptions {
  db: Database;
  logger: Logger;
  /** How long a looked-up key is trusted before it is read again: the revoke delay elsewhere. */
  cacheMs?: number;
  /** Most keys cached at once. */
  maxCached?: number;
  /** How often `last_used_at` is written per key and node, at most. */
  touchIntervalMs?: number;
  now?: () => number;
}

const challenge = { 'www-authenticate': 'Bearer realm="switchboard"' };

export class ApiKeyVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<KeyRow | null>>();
  private readonly touched = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly maxCached: number;
  private readonly touchIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ApiKeyVerifierOptions) {
    this.cacheMs = options.cacheMs ?? 5000;
    this.maxCached = options.maxCached ?? 10_000;
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Resolves with the caller for an `Authorization` value; throws AppError `unauthorized` (no,
   * malformed, unknown or revoked key) or `forbidden` (the key lacks `scope`).
   */
  async authenticate(
    authorization: string | undefined,
    scope: ApiKeyScope,
  ): Promise<ApiKeyPrincipal> {
    const key = bearerToken(authorization);
    if (!key) {
      throw new AppError(
        'unauthorized',
        'Send a server API key as `Authorization: Bearer sbk_…`.',
        undefined,
        challenge,
      );
    }
    const parsed = parseApiKey(key);
    const row = parsed ? await this.lookup(parsed.prefix) : null;
    if (!row || !apiKeyMatches(key, row.keyHash)) {
      throw new AppError('unauthorized', 'The API key is not valid.', undefined, challenge);
    }
    if (row.revokedAt) {
      throw new AppError('unauthorized', 'The API key has been revoked.', undefined, challenge);
    }
    if (!hasScope(row.scopes, scope)) {
      throw new AppError('forbidden', `The API key lacks the \`${scope}\` scope.`);
    }
    this.touch(row.id);
    return { id: row.id, name: row.name, prefix: displayPrefix(row.prefix), scopes: row.scopes };
  }

  /** Drops a key from this node's cache (after revoking it here), by id or prefix. */
  forget(reference: string): void {
    const bare = reference.replace(/^sbk_/, '');
    for (const [prefix, entry] of this.cache) {
      if (prefix === bare || entry.row?.id === reference) this.cache.delete(prefix);
    }
  }

  private async lookup(prefix: string): Promise<KeyRow | null> {
    const cached = this.cache.get(prefix);
    if (cached && cached.expiresAt > this.now()) return cached.row;
    let pending = this.loading.get(prefix);
    if (!pending) {
      pending = this.load(prefix).finally(() => this.loading.delete(prefix));
      this.loading.set(prefix, pending);
    }
    return pending;
  }

  private async load(prefix: string): Promise<KeyRow | null> {
    const [row] = await this.options.db
      .select({
        id: apiKeys.id,
        name: apiKeys.name,
        prefix: apiKeys.prefix,
        keyHash: apiKeys.keyHash,
        scopes: apiKeys.scopes,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.prefix, prefix))
      .limit(1);
    this.cache.delete(prefix);
    if (this.cache.size >= this.maxCached) {
      // Insertion order: the oldest lookup goes first.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(prefix, { row: row ?? null, expiresAt: this.now() + this.cacheMs });
    return row ?? null;
  }

  /** Records use, at most once per interval per key, without holding up the request. */
  private touch(id: string): void {
    const now = this.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < this.touchIntervalMs) return;
    this.touched.set(id, now);
    this.options.db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(now) })
      .where(eq(apiKeys.id, id))
      .catch((err: unknown) => {
        this.options.logger.warn({ err, keyId: id }, 'could not record API key use');
      });
  }
}

/** The credential of `Bearer <credential>`, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}
