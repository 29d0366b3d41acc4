// Chat's WebSocket ops, thin like routes over the same commands as REST: seed 002's `join` and
// `send` exactly as its clients send them, plus `leave`, `typing`, `read` and `react`.
import type { ChatContext } from '../../context.js';
import { addReaction, removeReaction, sendMessage } from '../../messages/index.js';
import { requireChannel } from '../../policies/channel-access.js';
import { markChannelRead } from '../../read-state/index.js';
import type { ChatUserResolver } from '../chat-user.js';
import { sendTyping, TypingThrottle } from '../commands/send-typing.js';
import {
  joinFrame,
  leaveFrame,
  reactFrame,
  readFrame,
  sendFrame,
  typingFrame,
} from '../schemas.js';
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

  // Every subscriber of the channel gets the `message.created` event; the reply is for the
  // sender's pending bubble (`temp_id` is the message's clientMsgId: a resend finds the first).
  ops.register(
    'send',
    chatOp(chatUserOf, async (userId, frame) => {
      const { conversation_id, body, temp_id, thread_root_id } = sendFrame.parse(frame);
      const { message } = await sendMessage(ctx, userId, {
        channelId: conversation_id,
        body,
        ...(temp_id === undefined ? {} : { clientMsgId: temp_id }),
        ...(thread_root_id === undefined ? {} : { threadRootId: thread_root_id }),
      });
      return { message_id: message.id, temp_id: temp_id ?? null, seq: message.seq };
    }),
  );

  ops.register(
    'react',
    chatOp(chatUserOf, async (userId, frame) => {
      const { message_id, emoji, remove } = reactFrame.parse(frame);
      const message = await (remove ? removeReaction : addReaction)(ctx, userId, message_id, emoji);
      return { message_id, emoji, reactions: message.reactions };
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
