// Sign-in sessions: an access token plus a refresh token that starts (or continues) a family.
import { refreshTokens } from '../../schema.js';
import type { ChatContext } from '../../context.js';
import type { Transaction } from '../../../store/index.js';
import { newId } from '../../ids.js';
import { generateRefreshToken, issueAccessToken } from '../tokens.js';

export interface SessionTokens {
  accessToken: string;
  /** Seconds the access token lives. */
  expiresIn: number;
  refreshToken: string;
  /** Seconds the refresh token lives. */
  refreshExpiresIn: number;
  tokenType: 'Bearer';
}

export interface ClientInfo {
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
}

export async function issueSession(
  ctx: ChatContext,
  executor: ChatContext['db'] | Transaction,
  userId: string,
  client: ClientInfo,
  familyId: string = newId(),
): Promise<SessionTokens> {
  const now = ctx.now();
  const refresh = generateRefreshToken();
  const ttl = ctx.config.CHAT_REFRESH_TOKEN_TTL_SECONDS;
  await executor.insert(refreshTokens).values({
    id: newId(),
    userId,
    familyId,
    tokenHash: refresh.hash,
    expiresAt: new Date(now + ttl * 1000),
    userAgent: client.userAgent?.slice(0, 300) ?? null,
    ip: client.ip ?? null,
  });
  const access = await issueAccessToken(ctx.config, userId, now);
  return {
    accessToken: access.accessToken,
    expiresIn: access.expiresIn,
    refreshToken: refresh.token,
    refreshExpiresIn: ttl,
    tokenType: 'Bearer',
  };
}
