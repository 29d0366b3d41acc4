// Signs out one sign-in: every refresh token of the presented token's family is revoked.
import { and, eq, isNull } from 'drizzle-orm';
import type { ChatContext } from '../../context.js';
import { refreshTokens } from '../../schema.js';
import { hashRefreshToken, looksLikeRefreshToken } from '../tokens.js';

/** Idempotent: an unknown or already revoked token signs out nothing and is not an error. */
export async function logout(ctx: ChatContext, refreshToken: string): Promise<void> {
  if (!looksLikeRefreshToken(refreshToken)) return;
  const [row] = await ctx.db
    .select({ familyId: refreshTokens.familyId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashRefreshToken(refreshToken)))
    .limit(1);
  if (!row) return;
  await ctx.db
    .update(refreshTokens)
    .set({ revokedAt: new Date(ctx.now()) })
    .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)));
}
