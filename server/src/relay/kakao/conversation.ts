// The conversation a webhook call belongs to: its mapping row, created on first contact and
// refreshed on every call (last seen, and the newest callback URL Kakao gave it).
import { eq } from 'drizzle-orm';
import type { RelayContext } from '../context.js';
import type { ConversationRef } from '../pairing/index.js';
import { accounts, conversationMappings } from '../schema.js';

export interface KakaoCallback {
  readonly url: string;
  readonly expiresAt: Date;
}

export interface Conversation extends ConversationRef {
  readonly state: (typeof conversationMappings.$inferSelect)['state'];
  readonly accountId: string | null;
  readonly pairedAt: Date | null;
  /** The paired account exists but an operator disabled it. */
  readonly accountDisabled: boolean;
}

/** Paired to an account that may receive messages. */
export function isConnected(conversation: Conversation): conversation is Conversation & {
  accountId: string;
} {
  return (
    conversation.state === 'paired' &&
    conversation.accountId !== null &&
    !conversation.accountDisabled
  );
}

/** Upserts the mapping (first contact creates it `unpaired`) and reads its pairing. */
export async function touchConversation(
  ctx: RelayContext,
  ref: ConversationRef,
  callback: KakaoCallback | undefined,
  now: Date,
): Promise<Conversation> {
  // Without a callback the previous one is kept: it is still the newest usable one, if any.
  const callbackColumns = callback
    ? { lastCallbackUrl: callback.url, lastCallbackExpiresAt: callback.expiresAt }
    : {};
  const [row] = await ctx.db
    .insert(conversationMappings)
    .values({ ...ref, ...callbackColumns, firstSeenAt: now, lastSeenAt: now })
    .onConflictDoUpdate({
      target: conversationMappings.conversationKey,
      set: { ...callbackColumns, lastSeenAt: now },
    })
    .returning({
      state: conversationMappings.state,
      accountId: conversationMappings.accountId,
      pairedAt: conversationMappings.pairedAt,
    });
  const mapping = row!;
  let accountDisabled = false;
  if (mapping.accountId) {
    const [account] = await ctx.db
      .select({ disabledAt: accounts.disabledAt })
      .from(accounts)
      .where(eq(accounts.id, mapping.accountId));
    accountDisabled = !account || account.disabledAt !== null;
  }
  return { ...ref, ...mapping, accountDisabled };
}
