// Access-token verification for every transport: HS256 with our own secret, RS256/ES256 with a
// configured PEM key or a JWKS URL, or dev mode where the token is the user id.
import {
  createRemoteJWKSet,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import type { Config } from '../config/index.js';
import { importHs256Key } from '../security/hs256-key.js';
import type { TopicGrant } from './topics.js';

export interface Identity {
  userId: string;
  /** Seconds since the epoch at which the token stops being valid, if it says. */
  expiresAt?: number;
  /** Topics the token grants beyond the module policies (claim `topics`). */
  grant?: TopicGrant;
  /** The token's `iss`, when it has one. */
  issuer?: string;
  /**
   * Signed by an external identity provider (`JWT_PUBLIC_KEY` or `JWT_JWKS_URL`) rather than
   * with our own secret: its subject is that provider's, not one of ours.
   */
  external?: boolean;
}

/**
 * Turns a verified token's identity into the user the platform knows it as (chat maps an
 * external provider's subject to its own account). May refuse it by throwing an `AuthError`.
 */
export type IdentityResolver = (identity: Identity) => Promise<Identity>;

export class AuthError extends Error {
  constructor(
    readonly reason: 'missing' | 'invalid' | 'expired',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface Authenticator {
  readonly devMode: boolean;
  verify(token: string): Promise<Identity>;
}

const DEV_PLACEHOLDER = 'dev-placeholder';
const devUserId = /^[\w.@:-]{1,128}$/;

type AuthConfig = Pick<
  Config,
  'JWT_SECRET' | 'JWT_PUBLIC_KEY' | 'JWT_JWKS_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'NODE_ENV'
>;

type Verify = (token: string, claims: JWTVerifyOptions) => Promise<JWTPayload>;

/** Imports a PEM public key, trying the algorithms its key type allows. */
async function pemVerifier(pem: string): Promise<Verify> {
  for (const alg of ['RS256', 'ES256', 'PS256', 'ES384', 'EdDSA']) {
    let key: Awaited<ReturnType<typeof importSPKI>>;
    try {
      key = await importSPKI(pem, alg);
    } catch {
      continue;
    }
    return async (token, claims) =>
      (await jwtVerify(token, key, { ...claims, algorithms: [alg] })).payload;
  }
  throw new Error('JWT_PUBLIC_KEY is not a PEM public key for RS256, ES256, PS256, ES384 or EdDSA');
}

function jwksVerifier(url: string): Verify {
  const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000 });
  return async (token, claims) => (await jwtVerify(token, keys, claims)).payload;
}

export async function createAuthenticator(config: AuthConfig): Promise<Authenticator> {
  const devMode = config.JWT_PUBLIC_KEY === DEV_PLACEHOLDER;
  if (devMode && config.NODE_ENV === 'production') {
    throw new Error('dev-mode authentication is refused in production');
  }
  // Imported once (a quarter of jose's cost per verification, and every handshake and REST call
  // verifies a token).
  const secret = await importHs256Key(config.JWT_SECRET, 'verify');
  const external: Verify | undefined = config.JWT_JWKS_URL
    ? jwksVerifier(config.JWT_JWKS_URL)
    : config.JWT_PUBLIC_KEY && !devMode
      ? await pemVerifier(config.JWT_PUBLIC_KEY)
      : undefined;
  const claims: JWTVerifyOptions = {
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  };

  function identityOf(payload: JWTPayload, external: boolean): Identity {
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new AuthError('invalid', 'token has no subject (sub)');
    }
    const identity: Identity = { userId: payload.sub };
    if (external) identity.external = true;
    if (typeof payload.iss === 'string') identity.issuer = payload.iss;
    if (payload.exp !== undefined) identity.expiresAt = payload.exp;
    const topics = (payload as { topics?: unknown }).topics;
    if (Array.isArray(topics) && topics.every((t) => typeof t === 'string')) {
      identity.grant = { patterns: topics };
    }
    return identity;
  }

  return {
    devMode,
    async verify(token) {
      if (!token) throw new AuthError('missing', 'no access token');
      if (devMode && !token.includes('.')) {
        if (!devUserId.test(token))
          throw new AuthError('invalid', 'dev-mode token must be a user id');
        return { userId: token };
      }
      try {
        const header = JSON.parse(
          Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'),
        ) as { alg?: string };
        if (header.alg === 'HS256') {
          return identityOf(
            (await jwtVerify(token, secret, { ...claims, algorithms: ['HS256'] })).payload,
            false,
          );
        }
        if (!external)
          throw new AuthError(
            'invalid',
            `tokens signed with ${header.alg ?? 'no algorithm'} are not accepted`,
          );
        return identityOf(await external(token, claims), true);
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new AuthError('expired', 'token expired');
        if (err instanceof SyntaxError) throw new AuthError('invalid', 'token is malformed');
        throw new AuthError('invalid', `token rejected: ${(err as Error).message}`);
      }
    },
  };
}

/** The authenticator with a module's resolver applied after verification, once one is set. */
export function resolvingAuthenticator(
  auth: Authenticator,
  resolver: () => IdentityResolver | undefined,
): Authenticator {
  return {
    devMode: auth.devMode,
    async verify(token) {
      const identity = await auth.verify(token);
      const resolve = resolver();
      return resolve ? resolve(identity) : identity;
    },
  };
}
