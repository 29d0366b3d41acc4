// Secrets the relay hands out: agent tokens (account relay tokens and session tokens), session
// cookies, and the human-typed codes (pairing codes, portal access codes).
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, hex: the format of relay and session tokens. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** How agent tokens are stored: they are 256-bit random, so a fast hash is enough. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** How session cookies are stored: keyed, so a leaked table cannot be replayed. */
export function hmacToken(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token).digest('hex');
}

/**
 * How portal access codes are stored: keyed, since a 40-bit code would not survive an offline
 * search of a leaked table.
 */
export function accessCodeHash(secret: string, code: string): string {
  return hmacToken(secret, `portal-access-code:${code}`);
}

/** Constant-time comparison of two strings (secrets in headers, signatures). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** No I, O, 0 or 1: codes are read off a screen and typed on a phone. */
export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** `XXXX-XXXX` over `CODE_ALPHABET`, from the crypto RNG (40 bits). */
export function newCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) {
    if (i === 4) code += '-';
    code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  }
  return code;
}

const CODE_PATTERN = /^[A-Z0-9]{4}-?[A-Z0-9]{4}$/;

/** A typed code in canonical form (`abcd efgh`, `ABCDEFGH` → `ABCD-EFGH`), or undefined. */
export function normalizeCode(input: string): string | undefined {
  const compact = input.trim().toUpperCase().replace(/\s+/g, '');
  if (!CODE_PATTERN.test(compact)) return undefined;
  const bare = compact.replace('-', '');
  return `${bare.slice(0, 4)}-${bare.slice(4)}`;
}
