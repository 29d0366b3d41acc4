// Chat over the realtime core: who a connection is (its chat account), who may subscribe to chat
// topics, the topics every connection follows (the user's channels, kept current as they join
// and leave), and the chat ops.
import type { ChatContext } from '../context.js';
import { createChatUserResolver } from './chat-user.js';
import { registerChatIdentities } from './identities.js';
import { registerChatOps } from './ops/chat-ops.js';
import { registerChatTopicPolicies } from './policies.js';
import { registerChatSubscriptions } from './subscriptions.js';

export { TYPING_EXPIRES_MS, TYPING_THROTTLE_MS } from './commands/send-typing.js';

/** Wires chat into the realtime core; runs on every role (ops only matter where clients connect). */
export function registerChatRealtime(ctx: ChatContext): void {
  registerChatIdentities(ctx);
  const chatUserOf = createChatUserResolver(ctx);
  registerChatTopicPolicies(ctx, chatUserOf);
  registerChatSubscriptions(ctx, chatUserOf);
  registerChatOps(ctx, chatUserOf);
}
