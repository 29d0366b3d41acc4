// The per-account budget of every account-authenticated agent route, SSE connects included:
// a sliding 60 s window of `accounts.rate_limit_per_minute` hits, shared by every instance
// through ctx.rateLimiter. Pending sessions have no account and are not counted.
import type { FastifyReply } from 'fastify';
import { AppError } from '../../http/index.js';
import { rateLimitHeaders } from '../../ratelimit/index.js';
import type { RelayContext } from '../context.js';
import type { AgentPrincipal } from './agent-auth.js';

const WINDOW_MS = 60_000;

/**
 * Counts one hit for the principal's account and puts X-RateLimit-* on the reply; throws 429
 * `rate_limited` with Retry-After when the budget is spent. A limit of 0 means unlimited.
 */
export async function limitAgent(
  ctx: RelayContext,
  principal: AgentPrincipal,
  reply: FastifyReply,
): Promise<void> {
  if (principal.kind !== 'account' || principal.rateLimitPerMinute <= 0) return;
  const result = await ctx.rateLimiter.hit(
    `relay:account:${principal.accountId}`,
    principal.rateLimitPerMinute,
    WINDOW_MS,
  );
  const headers = rateLimitHeaders(result);
  if (!result.allowed) {
    throw new AppError(
      'rate_limited',
      `This account may make ${result.limit} requests per minute.`,
      undefined,
      headers,
    );
  }
  void reply.headers(headers);
}
