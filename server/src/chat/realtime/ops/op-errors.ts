// Chat ops throw what chat commands throw (AppError, ZodError); the client gets the same error
// code it would get over HTTP, in an error frame.
import { ZodError } from 'zod';
import { AppError } from '../../../http/index.js';
import { OpError, type Connection, type OpHandler } from '../../../realtime/index.js';
import { isUnstorableText, UNSTORABLE_TEXT_MESSAGE } from '../../../store/index.js';
import type { AnyClientFrame } from '@switchboard/protocol';
import type { ChatUserResolver } from '../chat-user.js';

export type ChatOpHandler = (
  userId: string,
  frame: AnyClientFrame,
  connection: Connection,
) => Promise<Record<string, unknown> | void> | Record<string, unknown>;

/** Resolves the connection's chat account and turns command errors into error frames. */
export function chatOp(chatUserOf: ChatUserResolver, handle: ChatOpHandler): OpHandler {
  return async (connection, frame) => {
    const userId = await chatUserOf(connection.userId);
    if (!userId) throw new OpError('unauthorized', 'This token has no chat account.');
    try {
      return await handle(userId, frame, connection);
    } catch (err) {
      if (err instanceof AppError) throw new OpError(err.code, err.message);
      if (err instanceof ZodError) {
        const issue = err.issues[0];
        const path = issue?.path.join('.');
        throw new OpError(
          'invalid_frame',
          issue ? `${path ? `${path}: ` : ''}${issue.message}` : undefined,
        );
      }
      if (isUnstorableText(err)) throw new OpError('invalid_frame', UNSTORABLE_TEXT_MESSAGE);
      throw err;
    }
  };
}
