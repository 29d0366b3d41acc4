// /api/v1/workspaces: create, list mine, read, update; members and their roles; invites, and
// accepting one at /api/v1/invites/accept.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { acceptInvite } from '../commands/accept-invite.js';
import { createInvite } from '../commands/create-invite.js';
import { createWorkspace } from '../commands/create-workspace.js';
import { getWorkspace } from '../commands/get-workspace.js';
import { listInvites } from '../commands/list-invites.js';
import { listWorkspaceMembers } from '../commands/list-members.js';
import { listMyWorkspaces } from '../commands/list-workspaces.js';
import { removeWorkspaceMember } from '../commands/remove-member.js';
import { revokeInvite } from '../commands/revoke-invite.js';
import { updateMemberRole } from '../commands/update-member-role.js';
import { updateWorkspace } from '../commands/update-workspace.js';
import { inviteParams, memberParams, workspaceParams } from '../schemas.js';

export function registerWorkspaceRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  app.post('/api/v1/workspaces', async (request, reply) => {
    const me = await auth(request);
    reply.code(201);
    return createWorkspace(ctx, me.id, request.body);
  });

  app.get('/api/v1/workspaces', async (request) =>
    listMyWorkspaces(ctx, (await auth(request)).id, request.query),
  );

  app.get('/api/v1/workspaces/:workspaceId', async (request) => {
    const me = await auth(request);
    return getWorkspace(ctx, me.id, workspaceParams.parse(request.params).workspaceId);
  });

  const update = async (request: FastifyRequest) => {
    const me = await auth(request);
    return updateWorkspace(
      ctx,
      me.id,
      workspaceParams.parse(request.params).workspaceId,
      request.body,
    );
  };
  app.patch('/api/v1/workspaces/:workspaceId', update);
  app.put('/api/v1/workspaces/:workspaceId', update);

  app.get('/api/v1/workspaces/:workspaceId/members', async (request) => {
    const me = await auth(request);
    const { workspaceId } = workspaceParams.parse(request.params);
    return listWorkspaceMembers(ctx, me.id, workspaceId, request.query);
  });

  app.patch('/api/v1/workspaces/:workspaceId/members/:userId', async (request) => {
    const me = await auth(request);
    const { workspaceId, userId } = memberParams.parse(request.params);
    return updateMemberRole(
      ctx,
      me.id,
      workspaceId,
      userId === 'me' ? me.id : userId,
      request.body,
    );
  });

  app.delete('/api/v1/workspaces/:workspaceId/members/:userId', async (request, reply) => {
    const me = await auth(request);
    const { workspaceId, userId } = memberParams.parse(request.params);
    await removeWorkspaceMember(ctx, me.id, workspaceId, userId === 'me' ? me.id : userId);
    return reply.code(204).send();
  });

  app.post('/api/v1/workspaces/:workspaceId/invites', async (request, reply) => {
    const me = await auth(request);
    const { workspaceId } = workspaceParams.parse(request.params);
    const invite = await createInvite(ctx, me.id, workspaceId, request.body);
    return reply.code(201).send(invite);
  });

  app.get('/api/v1/workspaces/:workspaceId/invites', async (request) => {
    const me = await auth(request);
    const { workspaceId } = workspaceParams.parse(request.params);
    return listInvites(ctx, me.id, workspaceId, request.query);
  });

  app.delete('/api/v1/workspaces/:workspaceId/invites/:inviteId', async (request, reply) => {
    const me = await auth(request);
    const { workspaceId, inviteId } = inviteParams.parse(request.params);
    await revokeInvite(ctx, me.id, workspaceId, inviteId);
    return reply.code(204).send();
  });

  app.post('/api/v1/invites/accept', async (request) =>
    acceptInvite(ctx, (await auth(request)).id, request.body),
  );
}
