// Refresh-token rotation with reuse detection: a token works once; presenting a used one means
// a copy leaked, so the whole family (that sign-in on every device it reached) is revoked.
import { and, eq, isNull } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { refreshTokens, users } from '../../schema.js';
import { hashRefreshToken, looksLikeRefreshToken } from '../tokens.js';
import { issueSession, type ClientInfo, type SessionTokens } from './sessions.js';

export async function refresh(
  ctx: ChatContext,
  refreshToken: string,
  client: ClientInfo,
): Promise<SessionTokens> {
  if (!looksLikeRefreshToken(refreshToken)) throw new AppError('refresh_token_invalid');
  const tokenHash = hashRefreshToken(refreshToken);
  const now = new Date(ctx.now());
  const outcome = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .limit(1);
    if (!row || row.revokedAt || row.expiresAt <= now) return { error: 'invalid' as const };
    // Claim the token; of two concurrent uses only one gets the row.
    const claimed = await tx
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.usedAt)))
      .returning({ id: refreshTokens.id });
    if (claimed.length === 0) {
      await tx
        .update(refreshTokens)
        .set({ revokedAt: now })
        .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)));
      return { error: 'reused' as const };
    }
    const [user] = await tx
      .select({ deactivatedAt: users.deactivatedAt })
      .from(users)
      .where(eq(users.id, row.userId));
    if (!user || user.deactivatedAt) return { error: 'invalid' as const };
    return { session: await issueSession(ctx, tx, row.userId, client, row.familyId) };
  });
  if (outcome.error === 'reused') {
    ctx.logger.warn(
      { event: 'refresh_token_reused' },
      'a rotated refresh token was presented again; its sign-in is revoked',
    );
    throw new AppError('refresh_token_reused');
  }
  if (outcome.error) throw new AppError('refresh_token_invalid');
  return outcome.session;
}
