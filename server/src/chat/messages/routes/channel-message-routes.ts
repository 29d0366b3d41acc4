// Messages of a channel: send (with Idempotency-Key), history windows (also under /dm/:id), pins
// and threads.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { listMessages } from '../commands/list-messages.js';
import { listPins } from '../commands/list-pins.js';
import { listThreads } from '../commands/list-threads.js';
import { sendMessage } from '../commands/send-message.js';
import { claimIdempotencyKey, requestHash } from '../idempotency.js';
import { idempotencyHeader, idParam, sendMessageBody } from '../schemas.js';

const channelParams = z.object({ channelId: idParam });
const idParams = z.object({ id: idParam });

export function registerChannelMessageRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  app.post('/api/v1/channels/:channelId/messages', async (request, reply) => {
    const me = await auth(request);
    const { channelId } = channelParams.parse(request.params);
    const input = { ...sendMessageBody.parse(request.body), channelId };
    if (request.headers['idempotency-key'] === undefined) {
      const sent = await sendMessage(ctx, me.id, input);
      return reply.code(sent.created ? 201 : 200).send(sent.message);
    }
    const key = idempotencyHeader.parse(request.headers)['idempotency-key'];
    const hash = requestHash('POST', `/api/v1/channels/${channelId}/messages`, request.body);
    const outcome = await claimIdempotencyKey(ctx, me.id, key, hash);
    if ('replay' in outcome) return reply.code(outcome.replay.status).send(outcome.replay.body);
    const { claim } = outcome;
    try {
      const sent = await sendMessage(ctx, me.id, input, {
        inTransaction: (tx, message) => claim.complete(tx, { status: 201, body: message }),
      });
      if (!sent.created) await claim.complete(ctx.db, { status: 200, body: sent.message });
      return reply.code(sent.created ? 201 : 200).send(sent.message);
    } catch (err) {
      await claim.release();
      throw err;
    }
  });

  app.get('/api/v1/channels/:channelId/messages', async (request) => {
    const me = await auth(request);
    const { channelId } = channelParams.parse(request.params);
    return listMessages(ctx, me.id, channelId, request.query as never);
  });

  app.get('/api/v1/dm/:id/messages', async (request) => {
    const me = await auth(request);
    const { id } = idParams.parse(request.params);
    return listMessages(ctx, me.id, id, request.query as never, { directOnly: true });
  });

  app.get('/api/v1/channels/:channelId/pins', async (request) => {
    const me = await auth(request);
    const { channelId } = channelParams.parse(request.params);
    return listPins(ctx, me.id, channelId, request.query as never);
  });

  app.get('/api/v1/channels/:channelId/threads', async (request) => {
    const me = await auth(request);
    const { channelId } = channelParams.parse(request.params);
    return listThreads(ctx, me.id, channelId, request.query as never);
  });
}
