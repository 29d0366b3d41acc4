// The chat account of an identity issued by an external provider (a token verified with
// JWT_PUBLIC_KEY or JWT_JWKS_URL), found by `iss|sub` and created on first contact, whether that
// is a REST call or a realtime connection.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Identity } from '../../../realtime/index.js';
import type { ChatContext } from '../../context.js';
import { newId } from '../../ids.js';
import { users } from '../../schema.js';
import { uniqueViolation } from '../../../store/index.js';

export interface ExternalAccount {
  readonly id: string;
  readonly username: string;
  readonly deactivated: boolean;
}

/** `users.external_subject`: the provider's subject is only unique within its issuer. */
export const externalSubjectOf = (identity: Pick<Identity, 'issuer' | 'userId'>): string =>
  `${identity.issuer ?? ''}|${identity.userId}`;

function usernameFor(subject: string): string {
  const base =
    subject
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, '')
      .slice(0, 24) || 'user';
  return `${/^[a-z0-9]/.test(base) ? base : `u${base}`}-${randomBytes(3).toString('hex')}`;
}

export async function accountOfExternalIdentity(
  ctx: Pick<ChatContext, 'db' | 'logger'>,
  identity: Pick<Identity, 'issuer' | 'userId'>,
  attempt = 0,
): Promise<ExternalAccount> {
  const externalSubject = externalSubjectOf(identity);
  const [existing] = await ctx.db
    .select({ id: users.id, username: users.username, deactivatedAt: users.deactivatedAt })
    .from(users)
    .where(eq(users.externalSubject, externalSubject));
  if (existing) {
    return { id: existing.id, username: existing.username, deactivated: !!existing.deactivatedAt };
  }
  try {
    const [row] = await ctx.db
      .insert(users)
      .values({
        id: newId(),
        username: usernameFor(identity.userId),
        displayName: identity.userId.slice(0, 80),
        externalSubject,
      })
      .returning({ id: users.id, username: users.username });
    ctx.logger.info({ user: row!.id }, 'created the account of an external identity');
    return { ...row!, deactivated: false };
  } catch (err) {
    // Two first contacts at once (a REST call and a connection): the other one created it. A
    // username taken by chance gets another random suffix.
    const violated = uniqueViolation(err);
    const retry = violated === 'users_external_subject_key' || violated === 'users_username_key';
    if (retry && attempt < 3) return accountOfExternalIdentity(ctx, identity, attempt + 1);
    throw err;
  }
}
