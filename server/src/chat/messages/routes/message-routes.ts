// One message: read, edit (PATCH or PUT), delete, pin, its thread, following it, reactions.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { deleteMessage } from '../commands/delete-message.js';
import { editMessage } from '../commands/edit-message.js';
import { setFollowing } from '../commands/follow-thread.js';
import { getMessage } from '../commands/get-message.js';
import { getThread } from '../commands/get-thread.js';
import { setPinned } from '../commands/pin-message.js';
import { addReaction, removeReaction } from '../commands/react.js';
import { idParam, reactionInput } from '../schemas.js';

const idParams = z.object({ id: idParam });
const reactionParams = z.object({ id: idParam, emoji: z.string().min(1).max(256) });

export function registerMessageRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  app.get('/api/v1/messages/:id', async (request) => {
    const me = await auth(request);
    return getMessage(ctx, me.id, idParams.parse(request.params).id);
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/api/v1/messages/:id',
      handler: async (request) => {
        const me = await auth(request);
        return editMessage(ctx, me.id, idParams.parse(request.params).id, request.body as never);
      },
    });
  }

  app.delete('/api/v1/messages/:id', async (request, reply) => {
    const me = await auth(request);
    await deleteMessage(ctx, me.id, idParams.parse(request.params).id);
    return reply.code(204).send();
  });

  app.put('/api/v1/messages/:id/pin', async (request) => {
    const me = await auth(request);
    return setPinned(ctx, me.id, idParams.parse(request.params).id, true);
  });

  app.delete('/api/v1/messages/:id/pin', async (request) => {
    const me = await auth(request);
    return setPinned(ctx, me.id, idParams.parse(request.params).id, false);
  });

  app.get('/api/v1/messages/:id/thread', async (request) => {
    const me = await auth(request);
    return getThread(ctx, me.id, idParams.parse(request.params).id, request.query as never);
  });

  app.put('/api/v1/messages/:id/follow', async (request) => {
    const me = await auth(request);
    return setFollowing(ctx, me.id, idParams.parse(request.params).id, true);
  });

  app.delete('/api/v1/messages/:id/follow', async (request) => {
    const me = await auth(request);
    return setFollowing(ctx, me.id, idParams.parse(request.params).id, false);
  });

  app.post('/api/v1/messages/:id/reactions', async (request) => {
    const me = await auth(request);
    const { id } = idParams.parse(request.params);
    return addReaction(ctx, me.id, id, reactionInput.parse(request.body).emoji);
  });

  app.put('/api/v1/messages/:id/reactions/:emoji', async (request) => {
    const me = await auth(request);
    const { id, emoji } = reactionParams.parse(request.params);
    return addReaction(ctx, me.id, id, emoji);
  });

  app.delete('/api/v1/messages/:id/reactions/:emoji', async (request) => {
    const me = await auth(request);
    const { id, emoji } = reactionParams.parse(request.params);
    return removeReaction(ctx, me.id, id, emoji);
  });
}
