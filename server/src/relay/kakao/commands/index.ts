// Runs a chat command for a conversation; every command answers with one text.
import type { RelayContext } from '../../context.js';
import type { Conversation } from '../conversation.js';
import { HELP } from '../replies.js';
import type { ChatCommand } from './parse.js';
import { pairCommand } from './pair.js';
import { portalCodeCommand } from './portal-code.js';
import { statusCommand } from './status.js';
import { unpairCommand } from './unpair.js';

export { parseCommand, type ChatCommand } from './parse.js';

export function runCommand(
  ctx: RelayContext,
  conversation: Conversation,
  command: ChatCommand,
): Promise<string> {
  switch (command.name) {
    case 'pair':
      return pairCommand(ctx, conversation, command.code);
    case 'unpair':
      return unpairCommand(ctx, conversation);
    case 'status':
      return statusCommand(ctx, conversation);
    case 'code':
      return portalCodeCommand(ctx, conversation);
    case 'help':
      return Promise.resolve(HELP);
  }
}
