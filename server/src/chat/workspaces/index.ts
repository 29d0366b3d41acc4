// Workspaces: creating them, their members and roles, and invites.
export { registerWorkspaceRoutes } from './routes/workspace-routes.js';
export { addWorkspaceMember } from './commands/accept-invite.js';
export { createWorkspace, GENERAL_CHANNEL_NAME } from './commands/create-workspace.js';
export { decodeCursor, encodeCursor, pageOf, pageQuery, type Page } from './pagination.js';
export {
  presentUserSummary,
  presentWorkspace,
  type UserSummary,
  type WorkspaceView,
} from './presenters/workspace.js';
