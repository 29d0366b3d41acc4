// POST /v1/messages/ack (and /openclaw/messages/ack): the agent is done with some of its
// messages. Only the caller's own messages that are still open change; others are not counted.
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { inboundMessages } from '../schema.js';
import { authenticateAgent, requireAccount } from './agent-auth.js';
import { limitAgent } from './rate-limit.js';
import { ackInput } from './schemas.js';

export const ACK_PATHS = ['/v1/messages/ack', '/openclaw/messages/ack'] as const;

export function registerMessageRoutes(app: FastifyInstance, ctx: RelayContext): void {
  for (const path of ACK_PATHS) {
    app.post(path, async (request, reply) => {
      const principal = requireAccount(await authenticateAgent(ctx, request));
      await limitAgent(ctx, principal, reply);
      const { messageIds } = ackInput.parse(request.body);
      const acked = await ctx.db
        .update(inboundMessages)
        .set({ status: 'acked', ackedAt: new Date(ctx.now()) })
        .where(
          and(
            inArray(inboundMessages.id, [...new Set(messageIds)]),
            eq(inboundMessages.accountId, principal.accountId),
            inArray(inboundMessages.status, ['queued', 'delivered']),
          ),
        )
        .returning({ id: inboundMessages.id });
      return { acknowledged: acked.length, requested: messageIds.length };
    });
  }
}
