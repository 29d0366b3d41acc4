// Who is calling an agent route: an account's relay token (long-lived, owner model) or a plugin
// session token (pending until a Kakao user pairs, then bound to its own account). Both are
// stored as SHA-256. The plugin forgets its token on 401 and 410, so 410 means "known but over"
// (expired, disconnected) and 401 "never heard of it"; a disabled account is 403.
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { accounts, sessions } from '../schema.js';
import { hashToken } from '../tokens.js';

export type AgentPrincipal =
  | {
      readonly kind: 'account';
      readonly accountId: string;
      /** Set when the caller used a paired session's token rather than the relay token. */
      readonly sessionId: string | null;
      readonly rateLimitPerMinute: number;
    }
  | {
      /** A plugin session still waiting for its Kakao user: it may only stream. */
      readonly kind: 'pending';
      readonly sessionId: string;
    };

export type AccountPrincipal = Extract<AgentPrincipal, { kind: 'account' }>;

/** `?token=` first (EventSource cannot send headers), then `Authorization: Bearer`. */
export function agentToken(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

export async function authenticateAgent(
  ctx: RelayContext,
  request: FastifyRequest,
): Promise<AgentPrincipal> {
  const token = agentToken(request);
  if (!token) {
    throw new AppError(
      'unauthorized',
      'Send the relay or session token as Authorization: Bearer or ?token=',
    );
  }
  return principalOf(ctx, hashToken(token));
}

async function principalOf(ctx: RelayContext, tokenHash: string): Promise<AgentPrincipal> {
  const [account] = await ctx.db
    .select({
      id: accounts.id,
      disabledAt: accounts.disabledAt,
      rateLimitPerMinute: accounts.rateLimitPerMinute,
    })
    .from(accounts)
    .where(eq(accounts.relayTokenHash, tokenHash));
  if (account) {
    if (account.disabledAt) throw new AppError('account_disabled');
    return {
      kind: 'account',
      accountId: account.id,
      sessionId: null,
      rateLimitPerMinute: account.rateLimitPerMinute,
    };
  }

  const [session] = await ctx.db
    .select({
      id: sessions.id,
      status: sessions.status,
      expiresAt: sessions.expiresAt,
      accountId: sessions.accountId,
      disabledAt: accounts.disabledAt,
      rateLimitPerMinute: accounts.rateLimitPerMinute,
    })
    .from(sessions)
    .leftJoin(accounts, eq(accounts.id, sessions.accountId))
    .where(eq(sessions.sessionTokenHash, tokenHash));
  if (!session) throw new AppError('unauthorized', 'Invalid token');
  if (session.status === 'pending_pairing' && session.expiresAt.getTime() > ctx.now()) {
    return { kind: 'pending', sessionId: session.id };
  }
  if (session.status === 'paired' && session.accountId && session.rateLimitPerMinute !== null) {
    if (session.disabledAt) throw new AppError('account_disabled');
    return {
      kind: 'account',
      accountId: session.accountId,
      sessionId: session.id,
      rateLimitPerMinute: session.rateLimitPerMinute,
    };
  }
  // Expired, disconnected, pending past its deadline, or its account deleted.
  throw new AppError('session_expired');
}

/** The account behind a principal; 403 `session_not_paired` for a session still pending. */
export function requireAccount(principal: AgentPrincipal): AccountPrincipal {
  if (principal.kind !== 'account') {
    throw new AppError(
      'session_not_paired',
      'This session is not paired yet: send the pairing code from KakaoTalk first.',
    );
  }
  return principal;
}
