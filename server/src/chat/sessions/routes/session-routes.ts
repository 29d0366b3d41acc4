// The seed 003 aliases: /api/v1/session/create | list | messages | search, where a "session" is
// a conversation (a channel or DM; session_id is its id). Thin wrappers over the DM, message
// and search commands.
import type { FastifyInstance } from 'fastify';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { listMessages } from '../../messages/commands/list-messages.js';
import { searchMessages } from '../../search/commands/search-messages.js';
import { createSession } from '../commands/create-session.js';
import { listSessions } from '../commands/list-sessions.js';
import { sessionMessagesQuery, sessionSearchQuery } from '../schemas.js';

export function registerSessionRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  app.post('/api/v1/session/create', async (request, reply) => {
    const me = await auth(request);
    const { dm, created } = await createSession(ctx, me.id, request.body);
    return reply.code(created ? 201 : 200).send(dm);
  });

  app.get('/api/v1/session/list', async (request) =>
    listSessions(ctx, (await auth(request)).id, request.query),
  );

  app.get('/api/v1/session/messages', async (request) => {
    const me = await auth(request);
    const { session_id, before, limit } = sessionMessagesQuery.parse(request.query);
    return listMessages(ctx, me.id, session_id, { before, limit });
  });

  app.get('/api/v1/session/search', async (request) => {
    const me = await auth(request);
    const { q, session_id, limit, cursor } = sessionSearchQuery.parse(request.query);
    return searchMessages(ctx, me.id, {
      q: session_id ? `${q} in:${session_id}` : q,
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined ? {} : { cursor }),
    });
  });
}
