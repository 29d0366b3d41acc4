// `/pair CODE`: redeems a pairing code (an owner's or a plugin session's) for this conversation.
// The webhook is unauthenticated and codes are 40 bits, so attempts are limited per
// conversation.
import type { RelayContext } from '../../context.js';
import { pairConversation, type PairOutcome } from '../../pairing/index.js';
import { normalizeCode } from '../../tokens.js';
import type { Conversation } from '../conversation.js';
import {
  PAIR_ALREADY_PAIRED,
  PAIR_BLOCKED,
  PAIR_EMPTY_CODE,
  PAIR_EXPIRED_CODE,
  PAIR_INVALID_CODE,
  PAIR_SUCCESS,
  PAIR_USED_CODE,
  pairTooManyAttempts,
} from '../replies.js';

export const PAIR_ATTEMPTS_LIMIT = 5;
export const PAIR_ATTEMPTS_WINDOW_MS = 5 * 60_000;

const outcomeReplies: Record<PairOutcome['kind'], string> = {
  paired: PAIR_SUCCESS,
  already_paired: PAIR_ALREADY_PAIRED,
  blocked: PAIR_BLOCKED,
  invalid_code: PAIR_INVALID_CODE,
  expired_code: PAIR_EXPIRED_CODE,
  used_code: PAIR_USED_CODE,
};

export async function pairCommand(
  ctx: RelayContext,
  conversation: Conversation,
  typedCode: string,
): Promise<string> {
  const code = normalizeCode(typedCode);
  if (!code) return PAIR_EMPTY_CODE;
  const attempt = await ctx.rateLimiter.hit(
    `relay:pair:${conversation.conversationKey}`,
    PAIR_ATTEMPTS_LIMIT,
    PAIR_ATTEMPTS_WINDOW_MS,
  );
  if (!attempt.allowed) {
    return pairTooManyAttempts(
      PAIR_ATTEMPTS_LIMIT,
      PAIR_ATTEMPTS_WINDOW_MS / 60_000,
      Math.max(1, Math.ceil(attempt.retryAfterMs / 60_000)),
    );
  }
  const outcome = await pairConversation(ctx, conversation, code);
  if (outcome.kind === 'paired') {
    ctx.logger.info(
      { conversationKey: conversation.conversationKey, accountId: outcome.accountId },
      'conversation paired',
    );
  }
  return outcomeReplies[outcome.kind];
}
