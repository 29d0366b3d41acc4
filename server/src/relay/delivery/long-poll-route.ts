// GET /openclaw/messages: the long-poll for agents behind proxies that cut streams. Returns the
// account's queued messages (marking them delivered); with `wait` and nothing queued, it waits
// for a `message` event on the account topic through the hub, then reads again.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ConnectionSink, OutgoingEvent } from '../../realtime/index.js';
import type { RelayContext } from '../context.js';
import { MESSAGE_EVENT } from '../events.js';
import { requireAccount, authenticateAgent } from '../openclaw/agent-auth.js';
import { limitAgent } from '../openclaw/rate-limit.js';
import { accountTopic } from '../topics.js';
import type { AgentDelivery } from './delivery.js';
import { claimQueued, hasQueued, type ClaimedMessage } from './inbound-queries.js';

export const LONG_POLL_PATH = '/openclaw/messages';
export const MAX_WAIT_SECONDS = 30;

export const longPollQuery = z.object({
  wait: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

function present(message: ClaimedMessage) {
  return {
    id: message.id,
    conversationKey: message.conversationKey,
    payload: message.kakaoPayload,
    normalized: message.normalized,
    callbackUrl: message.callbackUrl,
    callbackExpiresAt: message.callbackExpiresAt?.toISOString() ?? null,
    createdAt: message.createdAt.toISOString(),
  };
}

/** A hub connection that only tells when a `message` event arrives. */
class MessageWaiter implements ConnectionSink {
  readonly transport = 'sse' as const;
  readonly invisible = true;
  private wake: (() => void) | undefined;
  private arrived = false;

  /** Resolves at the next `message` event (or one that came since the last call), or `wake`. */
  next(): { promise: Promise<void>; wake: () => void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => {
      wake = resolve;
    });
    if (this.arrived) {
      this.arrived = false;
      wake();
    }
    this.wake = wake;
    return { promise, wake };
  }

  sendEvent(event: OutgoingEvent): boolean {
    if (event.type() === MESSAGE_EVENT) this.notify();
    return true;
  }

  sendFrame(): boolean {
    // A resync means events were skipped: reading the database again answers both.
    this.notify();
    return true;
  }

  private notify(): void {
    if (this.wake) {
      this.wake();
      this.wake = undefined;
    } else {
      this.arrived = true;
    }
  }

  bufferedBytes(): number {
    return 0;
  }

  close(): void {
    this.wake?.();
  }
}

export function registerLongPollRoute(
  app: FastifyInstance,
  ctx: RelayContext,
  delivery: AgentDelivery,
): void {
  const hub = ctx.realtime.hub;

  app.get(LONG_POLL_PATH, async (request, reply) => {
    const principal = requireAccount(await authenticateAgent(ctx, request));
    await limitAgent(ctx, principal, reply);
    const { wait, limit } = longPollQuery.parse(request.query);
    const answer = async (messages: ClaimedMessage[]) => ({
      messages: messages.map(present),
      hasMore: messages.length === limit && (await hasQueued(ctx, principal.accountId)),
    });

    if (wait === 0) return answer(await claimQueued(ctx, principal.accountId, limit));

    // Subscribed before the first read: a message committed after that read wakes the wait.
    const topic = accountTopic(principal.accountId);
    const waiter = new MessageWaiter();
    const connection = hub.addConnection(
      `relay-account:${principal.accountId}`,
      request.ip,
      waiter,
    );
    let timer: NodeJS.Timeout | undefined;
    let stopWaiting: (() => void) | undefined;
    // A client that hung up must not have messages claimed for it: they would be lost.
    let gone = false;
    const hangUp = () => {
      gone = true;
      stopWaiting?.();
    };
    reply.raw.once('close', hangUp);
    // It may have hung up already, while it was authenticated: then that event has fired.
    if (request.raw.socket.destroyed) hangUp();
    try {
      await hub.subscribe(connection, [topic]);
      const deadline = Date.now() + wait * 1000;
      for (;;) {
        if (gone) return answer([]);
        const messages = await claimQueued(ctx, principal.accountId, limit);
        const left = deadline - Date.now();
        if (messages.length > 0 || left <= 0) return answer(messages);
        const next = waiter.next();
        let over = false;
        stopWaiting = () => {
          over = true;
          next.wake();
        };
        delivery.waiters.add(stopWaiting);
        timer = setTimeout(stopWaiting, left);
        await next.promise;
        clearTimeout(timer);
        delivery.waiters.delete(stopWaiting);
        if (over) return answer(gone ? [] : await claimQueued(ctx, principal.accountId, limit));
      }
    } finally {
      clearTimeout(timer);
      if (stopWaiting) delivery.waiters.delete(stopWaiting);
      reply.raw.off('close', hangUp);
      hub.removeConnection(connection);
    }
  });
}
