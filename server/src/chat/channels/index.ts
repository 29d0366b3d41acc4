// Channels: public and private channels of a workspace, their lifecycle and members. Other chat
// areas use the membership writes and queries exported here.
export { registerChannelRoutes } from './routes/channel-routes.js';
export { listMyChannelIds } from './commands/my-channels.js';
export { addChannelMembers } from './commands/add-channel-members.js';
export {
  addMembers,
  generalChannelOf,
  insertChannel,
  isDirectKind,
  membershipOf,
  notWorkspaceMembers,
  removeMembers,
  type MembershipChange,
  type NewChannel,
} from './commands/membership.js';
export {
  presentChannel,
  presentMyChannel,
  type ChannelView,
  type MyChannelView,
} from './presenters/channel.js';
