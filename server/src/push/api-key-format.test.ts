// Key format: what is generated parses back, and only the exact key matches its hash.
import { describe, expect, it } from 'vitest';
import { apiKeyMatches, generateApiKey, hashApiKey, parseApiKey } from './api-key-format.js';
import { bearerToken } from './api-key-verifier.js';

describe('server API key format', () => {
  it('generates sbk_<prefix>_<secret> keys that parse back to their prefix', () => {
    const generated = generateApiKey();
    expect(generated.key).toMatch(/^sbk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(generated.key)).toEqual({ prefix: generated.prefix });
    expect(generated.hash).toBe(hashApiKey(generated.key));
    expect(generated.hash).not.toContain(generated.key.slice(17));
  });

  it('gives every key its own prefix and secret', () => {
    const keys = Array.from({ length: 50 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(50);
    expect(new Set(keys.map((k) => k.key)).size).toBe(50);
  });

  it('matches only the exact key', () => {
    const { key, hash } = generateApiKey();
    expect(apiKeyMatches(key, hash)).toBe(true);
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    expect(apiKeyMatches(`${key.slice(0, -1)}${last}`, hash)).toBe(false);
    expect(apiKeyMatches(key, 'abcd')).toBe(false);
  });

  it.each(['', 'sbk_', 'sbk_0123456789ab', 'sbk_0123456789AB_' + 'a'.repeat(43), 'Bearer x'])(
    'refuses %j as a key',
    (text) => {
      expect(parseApiKey(text)).toBeUndefined();
    },
  );

  it('reads the credential of a Bearer header, case-insensitively', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
