// Chat's WebSocket ops, thin like routes: seed 002's `join` and `send` exactly as its clients
// send them, plus `leave`, `typing`, `read` and `react`.
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { markChannelRead } from '../../read-state/index.js';
import type { ChatUserResolver } from '../chat-user.js';
import { sendTyping, TypingThrottle } from '../commands/send-typing.js';
import { joinFrame, leaveFrame, readFrame, typingFrame } from '../schemas.js';
import { channelTopics } from '../subscriptions.js';
import { chatOp } from './op-errors.js';

export function registerChatOps(ctx: ChatContext, chatUserOf: ChatUserResolver): void {
  const { ops, hub } = ctx.realtime;
  const throttle = new TypingThrottle();

  ops.register(
    'join',
    chatOp(chatUserOf, async (userId, frame, connection) => {
      const { conversation_id } = joinFrame.parse(frame);
      await requireChannel(ctx, userId, conversation_id, 'read');
      const positions = await hub.subscribe(connection, channelTopics(conversation_id));
      return { conversation_id, positions };
    }),
  );

  ops.register(
    'leave',
    chatOp(chatUserOf, (_userId, frame, connection) => {
      const { conversation_id } = leaveFrame.parse(frame);
      hub.unsubscribe(connection, channelTopics(conversation_id));
      return { conversation_id };
    }),
  );

  ops.register(
    'typing',
    chatOp(chatUserOf, async (userId, frame) => {
      const { conversation_id } = typingFrame.parse(frame);
      await sendTyping(ctx, throttle, userId, conversation_id);
      return { conversation_id };
    }),
  );

  ops.register(
    'read',
    chatOp(chatUserOf, async (userId, frame) => {
      const { conversation_id, ...input } = readFrame.parse(frame);
      const state = await markChannelRead(ctx, userId, conversation_id, input);
      return { conversation_id, ...state };
    }),
  );
}
