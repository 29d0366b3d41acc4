// The owner model's pairing API: issue codes for the caller's account, list its conversations,
// unpair one of them. Every query is scoped to the caller's account: another tenant's
// conversation is "not found".
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { issuePairingCode, unpairConversation } from '../pairing/index.js';
import { conversationMappings } from '../schema.js';
import { authenticateAgent, requireAccount } from './agent-auth.js';
import { limitAgent } from './rate-limit.js';
import { generateCodeInput, unpairInput } from './schemas.js';

export function registerPairingRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const account = async (
    request: Parameters<typeof authenticateAgent>[1],
    reply: Parameters<typeof limitAgent>[2],
  ) => {
    const principal = requireAccount(await authenticateAgent(ctx, request));
    await limitAgent(ctx, principal, reply);
    return principal;
  };

  app.post('/v1/pairing/generate', async (request, reply) => {
    const { accountId } = await account(request, reply);
    const input = generateCodeInput.parse(request.body ?? {});
    const issued = await issuePairingCode(ctx, accountId, {
      ...(input.expirySeconds === undefined ? {} : { expirySeconds: input.expirySeconds }),
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    });
    return { code: issued.code, expiresAt: issued.expiresAt.toISOString() };
  });

  app.get('/v1/pairing/list', async (request, reply) => {
    const { accountId } = await account(request, reply);
    const rows = await ctx.db
      .select({
        conversationKey: conversationMappings.conversationKey,
        state: conversationMappings.state,
        pairedAt: conversationMappings.pairedAt,
        lastSeenAt: conversationMappings.lastSeenAt,
      })
      .from(conversationMappings)
      .where(
        and(
          eq(conversationMappings.accountId, accountId),
          inArray(conversationMappings.state, ['paired', 'blocked']),
        ),
      )
      .orderBy(desc(conversationMappings.pairedAt));
    return {
      conversations: rows.map((r) => ({
        conversationKey: r.conversationKey,
        state: r.state,
        pairedAt: r.pairedAt?.toISOString() ?? null,
        lastSeenAt: r.lastSeenAt.toISOString(),
      })),
      total: rows.length,
    };
  });

  app.post('/v1/pairing/unpair', async (request, reply) => {
    const { accountId } = await account(request, reply);
    const { conversationKey } = unpairInput.parse(request.body);
    const outcome = await unpairConversation(ctx, conversationKey, { accountId });
    if (outcome !== 'unpaired') throw new AppError('not_found', 'Conversation not found');
    return { success: true };
  });
}
