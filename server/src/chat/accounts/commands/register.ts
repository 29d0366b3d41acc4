// Creates an account with a password and signs it in.
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { newId } from '../../ids.js';
import { users } from '../../schema.js';
import { hashPassword } from '../../../security/passwords.js';
import { presentOwnUser, type OwnUserView } from '../presenters/user.js';
import { registerInput, type RegisterInput } from '../schemas.js';
import { issueSession, type ClientInfo, type SessionTokens } from './sessions.js';
import { uniqueViolation } from '../../../store/index.js';

export async function register(
  ctx: ChatContext,
  input: RegisterInput,
  client: ClientInfo,
): Promise<{ user: OwnUserView } & SessionTokens> {
  if (ctx.config.CHAT_REGISTRATION === 'closed') throw new AppError('registration_closed');
  const { email, username, password, displayName } = registerInput.parse(input);
  const passwordHash = await hashPassword(password);
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({
          id: newId(),
          email,
          username,
          displayName: displayName ?? username,
          passwordHash,
        })
        .returning();
      const session = await issueSession(ctx, tx, row!.id, client);
      return { user: presentOwnUser(row!, ctx.now()), ...session };
    });
  } catch (err) {
    const constraint = uniqueViolation(err);
    if (constraint === 'users_email_key') throw new AppError('email_taken');
    if (constraint === 'users_username_key') throw new AppError('username_taken');
    throw err;
  }
}
