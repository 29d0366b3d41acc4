// Read-only portal routes of an access-code session: its one conversation's stats and messages.
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';
import {
  pageInbound,
  pageOutbound,
  presentInboundForPortal,
  presentOutboundForPortal,
} from '../http/message-pages.js';
import { messagesQuery } from './account-routes.js';
import { codeSessionOf } from './portal-auth.js';
import { conversationStats } from './stats.js';

export function registerPortalCodeRoutes(api: FastifyInstance, ctx: RelayContext): void {
  api.get('/code/stats', (request) =>
    conversationStats(ctx.db, codeSessionOf(request).conversationKey, ctx.now()),
  );

  api.get('/code/messages', async (request) => {
    const { conversationKey } = codeSessionOf(request);
    const query = messagesQuery.parse(request.query);
    const page =
      query.type === 'inbound'
        ? await pageInbound(ctx.db, { conversationKey }, query, presentInboundForPortal)
        : await pageOutbound(ctx.db, { conversationKey }, query, presentOutboundForPortal);
    return { messages: page.items, nextCursor: page.nextCursor, hasMore: page.nextCursor !== null };
  });
}
