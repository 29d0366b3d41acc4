// GET /api/v1/messages/search
import type { FastifyInstance } from 'fastify';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { searchMessages } from '../commands/search-messages.js';

export function registerSearchRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  app.get('/api/v1/messages/search', async (request) => {
    const me = await auth(request);
    return searchMessages(ctx, me.id, request.query as never);
  });
}
