// Double-submit CSRF check for cookie-authenticated APIs: a state-changing request must carry
// the `csrf_token` cookie's value in `X-CSRF-Token`. Another site can make the browser send the
// cookie but cannot read it, so it cannot put it in the header.
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../http/index.js';
import { safeEqual } from '../tokens.js';
import { CSRF_COOKIE, CSRF_HEADER } from './cookies.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Throws 403 `csrf_failed` unless the request is safe or its header matches its cookie. */
export function checkCsrf(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const cookie = request.cookies[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  if (!cookie || typeof header !== 'string' || header.length === 0) {
    throw new AppError('csrf_failed', 'Missing CSRF token');
  }
  if (!safeEqual(cookie, header)) throw new AppError('csrf_failed', 'Invalid CSRF token');
}
