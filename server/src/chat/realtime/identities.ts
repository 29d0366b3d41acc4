// Realtime connections are keyed by the chat account id, as REST calls are: an external identity
// provider's token is mapped to its chat account (created on first contact) before the hub sees
// the connection, so it gets its chat topics, presence and `user.<account id>`.
import { AuthError } from '../../realtime/index.js';
import { accountOfExternalIdentity } from '../accounts/commands/external-identity.js';
import type { ChatContext } from '../context.js';

export function registerChatIdentities(ctx: ChatContext): void {
  ctx.realtime.useIdentityResolver(async (identity) => {
    if (!identity.external) return identity;
    const account = await accountOfExternalIdentity(ctx, identity);
    if (account.deactivated) throw new AuthError('invalid', 'This account is deactivated.');
    return { ...identity, userId: account.id };
  });
}
