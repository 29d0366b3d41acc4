// Rate limits of the chat API: every route per client IP (a flood guard), and per user for
// writes, message sends and searches. Counters live in ctx.rateLimiter (Redis when configured,
// so every node shares them). A refused request is 429 `rate_limited` with Retry-After; every
// limited response carries X-RateLimit-* of the tightest limit it was counted against.
//
// Chat routes are marked as they are registered (onRoute), so routes other modules add after
// chat are left alone.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  RouteOptions,
} from 'fastify';
import type { Config } from '../../config/index.js';
import { AppError } from '../../http/index.js';
import { rateLimitHeaders, type RateLimitResult } from '../../ratelimit/index.js';
import { externalSubjectOf } from '../accounts/commands/external-identity.js';
import type { ChatContext } from '../context.js';
import { bearerToken, verifiedIdentity } from './authenticate.js';

const MINUTE_MS = 60_000;

export type RouteClass = 'read' | 'search' | 'write' | 'message';

interface Limit {
  readonly key: string;
  readonly perMinute: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What kind of request a route serves, from its method and URL pattern. */
export function classifyRoute(method: string, url: string): RouteClass {
  if (WRITE_METHODS.has(method)) {
    if (method === 'POST' && /\/(messages|thread|replies)$/.test(url)) return 'message';
    return 'write';
  }
  return /\/search$/.test(url) ? 'search' : 'read';
}

/** The per-user limits a route class counts against (the IP limit applies to all). */
function userLimits(kind: RouteClass, config: Config, userId: string): Limit[] {
  const limits: Limit[] = [];
  if (kind === 'write' || kind === 'message') {
    limits.push({
      key: `chat:write:${userId}`,
      perMinute: config.CHAT_RATE_LIMIT_WRITES_PER_MINUTE,
    });
  }
  if (kind === 'message') {
    limits.push({
      key: `chat:message:${userId}`,
      perMinute: config.CHAT_RATE_LIMIT_MESSAGES_PER_MINUTE,
    });
  }
  if (kind === 'search') {
    limits.push({
      key: `chat:search:${userId}`,
      perMinute: config.CHAT_RATE_LIMIT_SEARCHES_PER_MINUTE,
    });
  }
  return limits.filter((limit) => limit.perMinute > 0);
}

/**
 * The user a request's access token names, without resolving the account (the route does
 * that); undefined when there is no valid token, which the route will refuse anyway.
 */
async function tokenSubject(
  ctx: ChatContext,
  request: FastifyRequest,
): Promise<string | undefined> {
  if (!bearerToken(request)) return undefined;
  try {
    const identity = await verifiedIdentity(ctx, request);
    // An external provider's subject could look like one of our account ids: key it by issuer.
    return identity.external ? externalSubjectOf(identity) : identity.userId;
  } catch {
    return undefined;
  }
}

function limiterFor(ctx: ChatContext, kind: RouteClass): onRequestAsyncHookHandler {
  return async function chatRateLimit(request: FastifyRequest, reply: FastifyReply) {
    const { config } = ctx;
    const limits: Limit[] = [];
    if (config.CHAT_RATE_LIMIT_IP_PER_MINUTE > 0) {
      limits.push({
        key: `chat:ip:${request.ip}`,
        perMinute: config.CHAT_RATE_LIMIT_IP_PER_MINUTE,
      });
    }
    if (kind !== 'read') {
      const userId = await tokenSubject(ctx, request);
      if (userId) limits.push(...userLimits(kind, config, userId));
    }
    let tightest: RateLimitResult | undefined;
    for (const limit of limits) {
      const result = await ctx.rateLimiter.hit(limit.key, limit.perMinute, MINUTE_MS);
      if (!result.allowed) {
        throw new AppError('rate_limited', undefined, undefined, rateLimitHeaders(result));
      }
      if (!tightest || result.remaining < tightest.remaining) tightest = result;
    }
    if (tightest) void reply.headers(rateLimitHeaders(tightest));
  };
}

/**
 * Limits every /api/v1 route registered from now until `seal()`: call it before chat registers
 * its routes and seal it after.
 */
export function registerChatRateLimits(app: FastifyInstance, ctx: ChatContext): { seal(): void } {
  let open = true;
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!open || !route.url.startsWith('/api/v1/')) return;
    const method = Array.isArray(route.method) ? route.method[0]! : route.method;
    const hook = limiterFor(ctx, classifyRoute(method, route.url));
    const existing = route.onRequest;
    route.onRequest = existing
      ? [...(Array.isArray(existing) ? existing : [existing]), hook]
      : [hook];
  });
  return {
    seal() {
      open = false;
    },
  };
}
