// /api/v1/workspaces/:workspaceId/channels and /api/v1/channels/:channelId[/...]: channels,
// their lifecycle and their members.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatContext } from '../../context.js';
import type { Authenticate } from '../../http/authenticate.js';
import { addChannelMembers } from '../commands/add-channel-members.js';
import { createChannel } from '../commands/create-channel.js';
import { deleteChannel } from '../commands/delete-channel.js';
import { getChannel } from '../commands/get-channel.js';
import { joinChannel } from '../commands/join-channel.js';
import { leaveChannel } from '../commands/leave-channel.js';
import { listChannelMembers } from '../commands/list-channel-members.js';
import { listChannels } from '../commands/list-channels.js';
import { removeChannelMember } from '../commands/remove-channel-member.js';
import { setChannelArchived } from '../commands/set-archived.js';
import { updateChannel } from '../commands/update-channel.js';
import { channelMemberParams, channelParams, workspaceChannelParams } from '../schemas.js';

export function registerChannelRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  /** The caller and the channel id of a /channels/:channelId route. */
  const target = async (request: FastifyRequest) => ({
    me: await auth(request),
    channelId: channelParams.parse(request.params).channelId,
  });

  app.post('/api/v1/workspaces/:workspaceId/channels', async (request, reply) => {
    const me = await auth(request);
    const { workspaceId } = workspaceChannelParams.parse(request.params);
    const channel = await createChannel(ctx, me.id, workspaceId, request.body);
    return reply.code(201).send(channel);
  });

  app.get('/api/v1/workspaces/:workspaceId/channels', async (request) => {
    const me = await auth(request);
    const { workspaceId } = workspaceChannelParams.parse(request.params);
    return listChannels(ctx, me.id, workspaceId, request.query);
  });

  app.get('/api/v1/channels/:channelId', async (request) => {
    const { me, channelId } = await target(request);
    return getChannel(ctx, me.id, channelId);
  });

  const update = async (request: FastifyRequest) => {
    const { me, channelId } = await target(request);
    return updateChannel(ctx, me.id, channelId, request.body);
  };
  app.patch('/api/v1/channels/:channelId', update);
  app.put('/api/v1/channels/:channelId', update);

  app.post('/api/v1/channels/:channelId/archive', async (request) => {
    const { me, channelId } = await target(request);
    return setChannelArchived(ctx, me.id, channelId, true);
  });

  app.post('/api/v1/channels/:channelId/unarchive', async (request) => {
    const { me, channelId } = await target(request);
    return setChannelArchived(ctx, me.id, channelId, false);
  });

  app.delete('/api/v1/channels/:channelId', async (request, reply) => {
    const { me, channelId } = await target(request);
    await deleteChannel(ctx, me.id, channelId);
    return reply.code(204).send();
  });

  app.post('/api/v1/channels/:channelId/join', async (request) => {
    const { me, channelId } = await target(request);
    return joinChannel(ctx, me.id, channelId);
  });

  app.post('/api/v1/channels/:channelId/leave', async (request, reply) => {
    const { me, channelId } = await target(request);
    await leaveChannel(ctx, me.id, channelId);
    return reply.code(204).send();
  });

  app.get('/api/v1/channels/:channelId/members', async (request) => {
    const { me, channelId } = await target(request);
    return listChannelMembers(ctx, me.id, channelId, request.query);
  });

  app.post('/api/v1/channels/:channelId/members', async (request) => {
    const { me, channelId } = await target(request);
    return addChannelMembers(ctx, me.id, channelId, request.body);
  });

  app.delete('/api/v1/channels/:channelId/members/:userId', async (request, reply) => {
    const me = await auth(request);
    const { channelId, userId } = channelMemberParams.parse(request.params);
    await removeChannelMember(ctx, me.id, channelId, userId === 'me' ? me.id : userId);
    return reply.code(204).send();
  });
}
