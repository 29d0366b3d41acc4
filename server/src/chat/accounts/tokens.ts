// Access tokens (short JWTs the realtime core verifies too) and refresh tokens (random secrets
// kept only as SHA-256 hashes).
import { createHash, randomBytes, type webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../../config/index.js';
import { importHs256Key } from '../../security/hs256-key.js';

export interface AccessToken {
  readonly accessToken: string;
  /** Seconds until it expires. */
  readonly expiresIn: number;
}

export async function issueAccessToken(
  config: Pick<
    Config,
    'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'CHAT_ACCESS_TOKEN_TTL_SECONDS'
  >,
  userId: string,
  nowMs: number,
): Promise<AccessToken> {
  const ttl = config.CHAT_ACCESS_TOKEN_TTL_SECONDS;
  const iat = Math.floor(nowMs / 1000);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl);
  if (config.JWT_ISSUER) jwt = jwt.setIssuer(config.JWT_ISSUER);
  if (config.JWT_AUDIENCE) jwt = jwt.setAudience(config.JWT_AUDIENCE);
  const accessToken = await jwt.sign(await signingKeyOf(config.JWT_SECRET));
  return { accessToken, expiresIn: ttl };
}

let signingKey: { secret: string; key: Promise<webcrypto.CryptoKey> } | undefined;

/** The HS256 secret as a key, imported once per secret. */
function signingKeyOf(secret: string): Promise<webcrypto.CryptoKey> {
  if (signingKey?.secret !== secret) {
    signingKey = { secret, key: importHs256Key(secret, 'sign') };
  }
  return signingKey.key;
}

const REFRESH_PREFIX = 'sbr_';

export function generateRefreshToken(): { token: string; hash: string } {
  const token = `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeRefreshToken(token: string): boolean {
  return token.startsWith(REFRESH_PREFIX) && token.length === REFRESH_PREFIX.length + 43;
}
