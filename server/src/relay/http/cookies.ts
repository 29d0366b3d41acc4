// Cookie sessions of the admin console and the portal: an opaque random token in an HttpOnly
// cookie, only its HMAC in the database, and a readable CSRF cookie the page echoes in a header.
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hmacToken, newToken } from '../tokens.js';

export const CSRF_COOKIE = 'csrf_token';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionCookie {
  /** Cookie name: `admin_session` or `portal_session`. */
  readonly name: string;
  /** Cookie path: `/admin` or `/portal`; the browser sends it to nothing else. */
  readonly path: string;
  /** Browsers only send Secure cookies over https, so it is set in production only. */
  readonly secure: boolean;
}

/** Registers @fastify/cookie in `scope` unless the app (or a parent scope) already has it. */
export async function ensureCookieSupport(scope: FastifyInstance): Promise<void> {
  if (!scope.hasRequestDecorator('cookies')) await scope.register(fastifyCookie);
}

/** A new session token and the hash to store for it. */
export function newSessionToken(secret: string): { token: string; tokenHash: string } {
  const token = newToken();
  return { token, tokenHash: hmacToken(secret, token) };
}

/** The stored hash of the session token the request carries, if it carries one. */
export function sessionTokenHash(
  request: FastifyRequest,
  cookie: SessionCookie,
  secret: string,
): string | undefined {
  const token = request.cookies[cookie.name];
  // Tokens are 64 hex characters; anything else cannot match and is not worth a query.
  if (!token || !/^[0-9a-f]{64}$/.test(token)) return undefined;
  return hmacToken(secret, token);
}

/** Sets the session cookie and a fresh CSRF cookie, both living `maxAgeSeconds`. */
export function setSessionCookies(
  reply: FastifyReply,
  cookie: SessionCookie,
  token: string,
  maxAgeSeconds: number,
): void {
  const common = {
    path: cookie.path,
    sameSite: 'lax' as const,
    secure: cookie.secure,
    maxAge: maxAgeSeconds,
  };
  void reply.setCookie(cookie.name, token, { ...common, httpOnly: true });
  // Readable by the page's script, which echoes it in X-CSRF-Token: a cross-site form cannot.
  void reply.setCookie(CSRF_COOKIE, newToken(), { ...common, httpOnly: false });
}

export function clearSessionCookies(reply: FastifyReply, cookie: SessionCookie): void {
  const common = { path: cookie.path, sameSite: 'lax' as const, secure: cookie.secure };
  void reply.clearCookie(cookie.name, { ...common, httpOnly: true });
  void reply.clearCookie(CSRF_COOKIE, { ...common, httpOnly: false });
}
