// Messages: send (REST with Idempotency-Key, and the WebSocket `send` op through `sendMessage`),
// history windows, edit, delete (tombstones), pins, threads and follows, emoji reactions, and
// @mentions parsed on the server.
import type { FastifyInstance } from 'fastify';
import type { ChatContext } from '../context.js';
import type { Authenticate } from '../http/authenticate.js';
import { registerChannelMessageRoutes } from './routes/channel-message-routes.js';
import { registerMessageRoutes as registerSingleMessageRoutes } from './routes/message-routes.js';

export { deleteMessage } from './commands/delete-message.js';
export { editMessage } from './commands/edit-message.js';
export { getMessage } from './commands/get-message.js';
export { addReaction, removeReaction } from './commands/react.js';
export { sendMessage, type SendOptions, type SendResult } from './commands/send-message.js';
export { parseMentions } from './mentions.js';
export type { MessageView, ReactionGroup } from './presenters/message.js';
export type { SendMessageInput } from './schemas.js';

export function registerMessageRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  auth: Authenticate,
): void {
  registerChannelMessageRoutes(app, ctx, auth);
  registerSingleMessageRoutes(app, ctx, auth);
}
