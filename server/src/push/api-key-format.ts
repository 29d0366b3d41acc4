// Server API keys on the wire: `sbk_<prefix>_<secret>`. The prefix is public (lookup, display);
// the secret is 256 random bits, so a plain SHA-256 is the right stored form.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^sbk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  /** The key's public lookup part, e.g. `0f3a9c21b7de`. */
  readonly prefix: string;
}

export interface GeneratedApiKey {
  /** The full key: shown once, never stored. */
  readonly key: string;
  readonly prefix: string;
  readonly hash: string;
}

/** SHA-256 of the whole key, hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = randomBytes(6).toString('hex');
  const key = `sbk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** The key's prefix, or undefined when the string is not shaped like a Switchboard key. */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(key);
  return match ? { prefix: match[1]! } : undefined;
}

/** Compares a presented key with a stored hash in constant time. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** The display form of a key: enough to recognise it, useless to call with. */
export function displayPrefix(prefix: string): string {
  return `sbk_${prefix}`;
}
