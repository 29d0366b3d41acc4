// Our own access tokens are HS256 with JWT_SECRET. Holders import the secret into a key once:
// given the raw bytes, jose imports them again for every token it signs or verifies.
import type { webcrypto } from 'node:crypto';

export function importHs256Key(
  secret: string,
  usage: 'sign' | 'verify',
): Promise<webcrypto.CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    [usage],
  );
}
