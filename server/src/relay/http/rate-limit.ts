// Per-IP and per-identity limits on the console's sign-in routes, shared by every instance
// through the configured rate limiter.
import type { FastifyReply } from 'fastify';
import { AppError } from '../../http/index.js';
import { rateLimitHeaders } from '../../ratelimit/index.js';
import type { RelayContext } from '../context.js';

export const MINUTE_MS = 60_000;

/** Counts one hit on `key`; over `limit` per `windowMs` it throws 429 with Retry-After. */
export async function enforceRateLimit(
  ctx: RelayContext,
  reply: FastifyReply,
  key: string,
  limit: number,
  windowMs: number,
): Promise<void> {
  const result = await ctx.rateLimiter.hit(`relay:${key}`, limit, windowMs);
  const headers = rateLimitHeaders(result);
  if (!result.allowed) {
    throw new AppError(
      'rate_limited',
      'Too many requests. Please try again later.',
      undefined,
      headers,
    );
  }
  void reply.headers(headers);
}

export function forgetRateLimit(ctx: RelayContext, key: string, windowMs: number): Promise<void> {
  return ctx.rateLimiter.reset(`relay:${key}`, windowMs);
}
