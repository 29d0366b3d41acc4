// The plugin's zero-configuration start: POST /v1/sessions/create hands out a session token and
// a pairing code (no credentials: limited per IP), and GET /v1/sessions/:token/status tells how
// the pairing is going.
import { eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/index.js';
import { rateLimitHeaders } from '../../ratelimit/index.js';
import type { RelayContext } from '../context.js';
import { createSession } from '../pairing/index.js';
import { sessions } from '../schema.js';
import { hashToken } from '../tokens.js';
import { sessionTokenParams } from './schemas.js';

const CREATES_PER_WINDOW = 10;
const CREATE_WINDOW_MS = 5 * 60_000;
const STATUS_PER_MINUTE = 30;

async function limitIp(
  ctx: RelayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  limit: number,
  windowMs: number,
): Promise<void> {
  const result = await ctx.rateLimiter.hit(`relay:${name}:${request.ip}`, limit, windowMs);
  const headers = rateLimitHeaders(result);
  if (!result.allowed) {
    throw new AppError('rate_limited', 'Too many requests. Please try again later.', undefined, {
      ...headers,
    });
  }
  void reply.headers(headers);
}

/** The Kakao user part of a conversation key (`<bot id>:<user key>`). */
const userOf = (conversationKey: string) => conversationKey.slice(conversationKey.indexOf(':') + 1);

export function registerSessionRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.post('/v1/sessions/create', async (request, reply) => {
    await limitIp(ctx, request, reply, 'sessions-create', CREATES_PER_WINDOW, CREATE_WINDOW_MS);
    const created = await createSession(ctx);
    return {
      sessionToken: created.sessionToken,
      pairingCode: created.pairingCode,
      expiresIn: created.expiresIn,
      status: 'pending_pairing',
    };
  });

  app.get('/v1/sessions/:token/status', async (request, reply) => {
    await limitIp(ctx, request, reply, 'sessions-status', STATUS_PER_MINUTE, 60_000);
    const { token } = sessionTokenParams.parse(request.params);
    const [session] = await ctx.db
      .select()
      .from(sessions)
      .where(eq(sessions.sessionTokenHash, hashToken(token)));
    if (!session) throw new AppError('not_found', 'Session not found');
    const lapsed = session.status === 'pending_pairing' && session.expiresAt.getTime() <= ctx.now();
    const status = lapsed ? 'expired' : session.status;
    return {
      status,
      ...(session.pairedAt ? { pairedAt: session.pairedAt.toISOString() } : {}),
      ...(session.pairedConversationKey
        ? { kakaoUserId: userOf(session.pairedConversationKey) }
        : {}),
      ...(session.accountId ? { accountId: session.accountId } : {}),
    };
  });
}
