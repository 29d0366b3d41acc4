// POST /openclaw/reply (what the plugin calls) and POST /v1/reply (the same, host-neutral):
// an agent's SkillResponse to one of its account's messages, sent to Kakao's callback.
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import { sendReply } from '../replies/send-reply.js';
import { authenticateAgent, requireAccount } from './agent-auth.js';
import { limitAgent } from './rate-limit.js';
import { replyInput } from './schemas.js';

export const REPLY_PATHS = ['/openclaw/reply', '/v1/reply'] as const;

export function registerReplyRoutes(app: FastifyInstance, ctx: RelayContext): void {
  for (const path of REPLY_PATHS) {
    app.post(path, async (request, reply) => {
      const principal = requireAccount(await authenticateAgent(ctx, request));
      await limitAgent(ctx, principal, reply);
      const input = replyInput.parse(request.body);
      const sent = await sendReply(ctx, principal.accountId, input.messageId, input.response);
      return { success: true, ...sent };
    });
  }
}
