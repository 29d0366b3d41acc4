// `/unpair`: the user ends their conversation's pairing.
import type { RelayContext } from '../../context.js';
import { unpairConversation } from '../../pairing/index.js';
import type { Conversation } from '../conversation.js';
import { UNPAIR_FAILED, UNPAIR_NOT_PAIRED, UNPAIR_SUCCESS } from '../replies.js';

export async function unpairCommand(
  ctx: RelayContext,
  conversation: Conversation,
): Promise<string> {
  // A block is the operator's decision: unpairing it from the chat would lift it and let the
  // conversation pair again.
  if (conversation.state !== 'paired') return UNPAIR_NOT_PAIRED;
  try {
    const outcome = await unpairConversation(ctx, conversation.conversationKey, {
      liftsBlock: false,
    });
    return outcome === 'unpaired' ? UNPAIR_SUCCESS : UNPAIR_NOT_PAIRED;
  } catch (error) {
    ctx.logger.error(
      { err: error, conversationKey: conversation.conversationKey },
      'unpair failed',
    );
    return UNPAIR_FAILED;
  }
}
