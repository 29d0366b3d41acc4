// /api/v1/dm: open (find or create) a DM or group DM, list mine, read one.
import type { FastifyInstance } from 'fastify';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { getDm } from '../commands/get-dm.js';
import { listDms } from '../commands/list-dms.js';
import { openDm } from '../commands/open-dm.js';
import { dmParams } from '../schemas.js';

export function registerDmRoutes(app: FastifyInstance, ctx: ChatContext, auth: Authenticate): void {
  app.post('/api/v1/dm', async (request, reply) => {
    const me = await auth(request);
    const { dm, created } = await openDm(ctx, me.id, request.body);
    return reply.code(created ? 201 : 200).send(dm);
  });

  app.get('/api/v1/dm', async (request) => listDms(ctx, (await auth(request)).id, request.query));

  app.get('/api/v1/dm/:id', async (request) => {
    const me = await auth(request);
    return getDm(ctx, me.id, dmParams.parse(request.params).id);
  });
}
