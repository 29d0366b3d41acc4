// Profiles: the caller's own (`/users/me`) and other people's, with status and presence.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import {
  canSeeUser,
  getOwnProfile,
  getUser,
  setOwnStatus,
  updateOwnProfile,
} from '../commands/profile.js';

const userParams = z.object({ id: z.string().min(1).max(64) });

export function registerUserRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  app.get('/api/v1/users/me', async (request) => getOwnProfile(ctx, (await auth(request)).id));

  app.patch('/api/v1/users/me', async (request) =>
    updateOwnProfile(ctx, (await auth(request)).id, request.body as never),
  );

  app.get('/api/v1/users/:id', async (request) => {
    const me = await auth(request);
    const { id } = userParams.parse(request.params);
    return getUser(ctx, me.id, id === 'me' ? me.id : id);
  });

  app.get('/api/v1/users/:id/status', async (request) => {
    const me = await auth(request);
    const { id } = userParams.parse(request.params);
    const user = await getUser(ctx, me.id, id === 'me' ? me.id : id);
    return { userId: user.id, statusMessage: user.statusMessage, customStatus: user.customStatus };
  });

  app.put('/api/v1/users/:id/status', async (request) => {
    const me = await auth(request);
    const { id } = userParams.parse(request.params);
    if (id !== 'me' && id !== me.id)
      throw new AppError('forbidden', 'You can only set your own status.');
    const user = await setOwnStatus(ctx, me.id, request.body);
    return { userId: user.id, statusMessage: user.statusMessage, customStatus: user.customStatus };
  });

  app.get('/api/v1/users/:id/presence', async (request) => {
    const me = await auth(request);
    const { id } = userParams.parse(request.params);
    const userId = id === 'me' ? me.id : id;
    if (!(await canSeeUser(ctx, me.id, userId))) throw new AppError('not_found', 'No such user.');
    const state = (await ctx.realtime.presence.query([userId])).get(userId);
    return { userId, online: false, ...state };
  });
}
