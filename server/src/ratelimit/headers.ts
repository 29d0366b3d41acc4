// How a rate-limit decision is told to HTTP clients.
import type { RateLimitResult } from './rate-limiter.js';

/** `X-RateLimit-*` on every limited response, and `Retry-After` (seconds) when refused. */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ratelimit-limit': String(result.limit),
    'x-ratelimit-remaining': String(result.remaining),
    'x-ratelimit-reset': String(Math.ceil(result.resetMs / 1000)),
  };
  if (!result.allowed)
    headers['retry-after'] = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
  return headers;
}
