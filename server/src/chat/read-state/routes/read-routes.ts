// Read state over HTTP: channel markers (and marking unread), read receipts, thread markers.
import type { FastifyInstance } from 'fastify';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { getChannelRead } from '../commands/get-channel-read.js';
import { listReadReceipts } from '../commands/list-read-receipts.js';
import { markChannelRead } from '../commands/mark-channel-read.js';
import { markThreadRead } from '../commands/mark-thread-read.js';
import { channelParams, messageParams } from '../schemas.js';

export function registerReadStateRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  app.get('/api/v1/channels/:id/read', async (request) => {
    const me = await auth(request);
    return getChannelRead(ctx, me.id, channelParams.parse(request.params).id);
  });

  app.put('/api/v1/channels/:id/read', async (request) => {
    const me = await auth(request);
    return markChannelRead(ctx, me.id, channelParams.parse(request.params).id, request.body);
  });

  app.get('/api/v1/channels/:id/read-receipts', async (request) => {
    const me = await auth(request);
    return listReadReceipts(ctx, me.id, channelParams.parse(request.params).id);
  });

  app.put('/api/v1/messages/:id/thread/read', async (request) => {
    const me = await auth(request);
    return markThreadRead(ctx, me.id, messageParams.parse(request.params).id, request.body);
  });
}
