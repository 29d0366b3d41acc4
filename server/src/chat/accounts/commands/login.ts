// Password sign-in with a per-IP rate limit and a per-account lockout after repeated failures.
import { eq, or, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import { rateLimitHeaders } from '../../../ratelimit/index.js';
import type { ChatContext } from '../../context.js';
import { users } from '../../schema.js';
import { verifyAgainstDecoy, verifyPassword } from '../../../security/passwords.js';
import { presentOwnUser, type OwnUserView } from '../presenters/user.js';
import { loginInput, type LoginInput } from '../schemas.js';
import { issueSession, type ClientInfo, type SessionTokens } from './sessions.js';

/** Sign-in attempts one IP address may make per minute, whatever the account. */
export const LOGIN_ATTEMPTS_PER_IP_PER_MINUTE = 30;

export async function login(
  ctx: ChatContext,
  input: LoginInput,
  client: ClientInfo,
): Promise<{ user: OwnUserView } & SessionTokens> {
  const { login: name, password } = loginInput.parse(input);
  if (client.ip) {
    const limit = await ctx.rateLimiter.hit(
      `login:ip:${client.ip}`,
      LOGIN_ATTEMPTS_PER_IP_PER_MINUTE,
      60_000,
    );
    if (!limit.allowed) {
      throw new AppError('rate_limited', undefined, undefined, rateLimitHeaders(limit));
    }
  }
  const [row] = await ctx.db
    .select()
    .from(users)
    .where(or(eq(users.email, name), eq(users.username, name)))
    .limit(1);
  if (!row || !row.passwordHash || row.deactivatedAt) {
    await verifyAgainstDecoy(password);
    throw new AppError('invalid_credentials');
  }
  const now = ctx.now();
  if (row.lockedUntil && row.lockedUntil.getTime() > now) {
    const seconds = Math.ceil((row.lockedUntil.getTime() - now) / 1000);
    throw new AppError('account_locked', undefined, undefined, { 'retry-after': String(seconds) });
  }
  if (!(await verifyPassword(row.passwordHash, password))) {
    const max = ctx.config.CHAT_LOGIN_MAX_FAILURES;
    const lockUntil = new Date(now + ctx.config.CHAT_LOGIN_LOCKOUT_SECONDS * 1000);
    // One statement, so concurrent failures all count.
    await ctx.db
      .update(users)
      .set({
        failedLogins: sql`case when ${users.failedLogins} + 1 >= ${max} then 0 else ${users.failedLogins} + 1 end`,
        lockedUntil: sql`case when ${users.failedLogins} + 1 >= ${max} then ${lockUntil} else ${users.lockedUntil} end`,
      })
      .where(eq(users.id, row.id));
    throw new AppError('invalid_credentials');
  }
  if (row.failedLogins > 0 || row.lockedUntil) {
    await ctx.db
      .update(users)
      .set({ failedLogins: 0, lockedUntil: null })
      .where(eq(users.id, row.id));
  }
  const session = await issueSession(ctx, ctx.db, row.id, client);
  return { user: presentOwnUser(row, now), ...session };
}
