// Typing indicators: ephemeral events on the channel's activity topic (no seq, never replayed),
// at most one per user per channel per throttle window on each node; extra ones are dropped.
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { activityTopic } from '../../topics.js';

export const TYPING_THROTTLE_MS = 3000;
/** How long clients show the indicator without a newer one. */
export const TYPING_EXPIRES_MS = 5000;

export class TypingThrottle {
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly windowMs = TYPING_THROTTLE_MS) {}

  /** Whether a typing event for this user and channel may go out at `now`. */
  allows(userId: string, channelId: string, now: number): boolean {
    const last = this.lastSent.get(`${userId}:${channelId}`);
    return last === undefined || now - last >= this.windowMs;
  }

  record(userId: string, channelId: string, now: number): void {
    // Entries older than the window decide nothing: forget them before the map grows large.
    if (this.lastSent.size >= 10_000) {
      for (const [key, at] of this.lastSent)
        if (now - at >= this.windowMs) this.lastSent.delete(key);
    }
    this.lastSent.set(`${userId}:${channelId}`, now);
  }
}

/** Publishes "user is typing" unless throttled; returns whether it went out. */
export async function sendTyping(
  ctx: ChatContext,
  throttle: TypingThrottle,
  userId: string,
  channelId: string,
): Promise<boolean> {
  // The throttle comes first, so a flood of typing frames costs no database reads.
  if (!throttle.allows(userId, channelId, ctx.now())) return false;
  await requireChannel(ctx, userId, channelId, 'post');
  const now = ctx.now();
  if (!throttle.allows(userId, channelId, now)) return false;
  throttle.record(userId, channelId, now);
  await ctx.realtime.hub.publish(
    activityTopic(channelId),
    { type: 'typing', channelId, userId, expiresInMs: TYPING_EXPIRES_MS },
    { ephemeral: true },
  );
  return true;
}
