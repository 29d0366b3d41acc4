// `/code`: a paired user gets a single-use access code for a read-only portal view of their
// conversation (history and counts), without an account.
import type { RelayContext } from '../../context.js';
import { portalAccessCodes } from '../../schema.js';
import { accessCodeHash, newCode } from '../../tokens.js';
import { isConnected, type Conversation } from '../conversation.js';
import { CODE_NOT_PAIRED, codeIssued, codeTooMany } from '../replies.js';

export const PORTAL_CODE_LIMIT = 3;
export const PORTAL_CODE_WINDOW_MS = 5 * 60_000;
export const PORTAL_CODE_VALID_MINUTES = 30;
const CODE_ATTEMPTS = 10;

export async function portalCodeCommand(
  ctx: RelayContext,
  conversation: Conversation,
): Promise<string> {
  if (!isConnected(conversation)) return CODE_NOT_PAIRED;
  const limited = await ctx.rateLimiter.hit(
    `relay:portal-code:${conversation.conversationKey}`,
    PORTAL_CODE_LIMIT,
    PORTAL_CODE_WINDOW_MS,
  );
  if (!limited.allowed) {
    return codeTooMany(
      PORTAL_CODE_LIMIT,
      PORTAL_CODE_WINDOW_MS / 60_000,
      Math.max(1, Math.ceil(limited.retryAfterMs / 60_000)),
    );
  }
  const code = await storeAccessCode(ctx, conversation.conversationKey);
  return codeIssued(code, PORTAL_CODE_VALID_MINUTES, ctx.config.PORTAL_BASE_URL);
}

async function storeAccessCode(ctx: RelayContext, conversationKey: string): Promise<string> {
  const createdAt = new Date(ctx.now());
  const expiresAt = new Date(createdAt.getTime() + PORTAL_CODE_VALID_MINUTES * 60_000);
  for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
    const code = newCode();
    const codeHash = accessCodeHash(ctx.config.PORTAL_SESSION_SECRET, code);
    const inserted = await ctx.db
      .insert(portalAccessCodes)
      .values({ codeHash, conversationKey, expiresAt, createdAt })
      .onConflictDoNothing()
      .returning({ codeHash: portalAccessCodes.codeHash });
    if (inserted.length === 1) return code;
  }
  throw new Error('could not find an unused portal access code');
}
