// Topic names the core itself uses, and who may subscribe to what.

/** The per-user topic every connection of that user is subscribed to. */
export const userTopic = (userId: string) => `user.${userId}`;

/** The topic every connection is subscribed to; `broadcast()` publishes here. */
export const BROADCAST_TOPIC = 'broadcast';

/** Presence changes of one user, for connections that watch them. */
export const presenceTopic = (userId: string) => `presence.${userId}`;

/**
 * Decides whether a user may subscribe to a topic. Modules register one per topic prefix
 * (e.g. `chat.channel.` checks channel membership).
 */
export type TopicPolicy = (userId: string, topic: string) => boolean | Promise<boolean>;

export interface TopicGrant {
  /** Topic names or prefixes ending in `*` that the user's token allows, e.g. `news.*`. */
  readonly patterns: readonly string[];
}

export function grantAllows(grant: TopicGrant | undefined, topic: string): boolean {
  if (!grant) return false;
  return grant.patterns.some((p) =>
    p.endsWith('*') ? topic.startsWith(p.slice(0, -1)) : topic === p,
  );
}

export class TopicPolicies {
  private readonly byPrefix = new Map<string, TopicPolicy>();

  register(prefix: string, policy: TopicPolicy): void {
    if (this.byPrefix.has(prefix)) throw new Error(`a topic policy for ${prefix} exists already`);
    this.byPrefix.set(prefix, policy);
  }

  /** The core's own rules first, then the longest matching module prefix, then the token grant. */
  async allows(userId: string, topic: string, grant?: TopicGrant): Promise<boolean> {
    if (topic === userTopic(userId) || topic === BROADCAST_TOPIC) return true;
    if (topic.startsWith('presence.')) return true;
    if (topic.startsWith('user.')) return false;
    let best: [string, TopicPolicy] | undefined;
    for (const entry of this.byPrefix) {
      if (topic.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
    }
    if (best) return best[1](userId, topic);
    return grantAllows(grant, topic);
  }
}
