// Rows for the console tests, written straight to the relay tables (the Kakao and agent sides
// that normally write them are tested on their own).
import { randomUUID } from 'node:crypto';
import type { Database } from '../../store/index.js';
import {
  conversationMappings,
  inboundMessageBodies,
  inboundMessages,
  outboundMessages,
  portalAccessCodes,
} from '../schema.js';
import { accessCodeHash } from '../tokens.js';

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter += 1)}${randomUUID().slice(0, 4)}`;

export async function makeMapping(
  db: Database,
  options: { accountId: string | null; state?: 'unpaired' | 'paired' | 'blocked'; bot?: string },
): Promise<{ id: string; conversationKey: string }> {
  const bot = options.bot ?? 'bot1';
  const user = `user-${unique()}`;
  const conversationKey = `${bot}:${user}`;
  const [row] = await db
    .insert(conversationMappings)
    .values({
      conversationKey,
      kakaoChannelId: bot,
      plusfriendUserKey: user,
      accountId: options.accountId,
      state: options.state ?? 'paired',
      pairedAt: options.state === 'unpaired' ? null : new Date(),
    })
    .returning({ id: conversationMappings.id });
  return { id: row!.id, conversationKey };
}

export async function makeInbound(
  db: Database,
  options: {
    accountId: string;
    conversationKey: string;
    text?: string;
    status?: 'queued' | 'delivered' | 'acked' | 'expired';
    createdAt?: Date;
  },
): Promise<string> {
  const text = options.text ?? 'hello';
  const [row] = await db
    .insert(inboundMessages)
    .values({
      accountId: options.accountId,
      conversationKey: options.conversationKey,
      status: options.status ?? 'queued',
      eventSeq: 1,
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    })
    .returning({ id: inboundMessages.id });
  await db.insert(inboundMessageBodies).values({
    messageId: row!.id,
    kakaoPayload: { userRequest: { utterance: text } },
    normalizedMessage: {
      userId: options.conversationKey.split(':')[1],
      text,
      channelId: options.conversationKey.split(':')[0],
    },
  });
  return row!.id;
}

export async function makeOutbound(
  db: Database,
  options: {
    accountId: string;
    conversationKey: string;
    text?: string;
    status?: 'pending' | 'sent' | 'failed';
    errorMessage?: string;
    createdAt?: Date;
  },
): Promise<string> {
  const [row] = await db
    .insert(outboundMessages)
    .values({
      accountId: options.accountId,
      conversationKey: options.conversationKey,
      responsePayload: {
        version: '2.0',
        template: { outputs: [{ simpleText: { text: options.text ?? 'reply' } }] },
      },
      status: options.status ?? 'sent',
      errorMessage: options.errorMessage ?? null,
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    })
    .returning({ id: outboundMessages.id });
  return row!.id;
}

export async function makeAccessCode(
  db: Database,
  options: {
    conversationKey: string;
    code: string;
    /** The server's PORTAL_SESSION_SECRET. */
    secret: string;
    expiresAt?: Date;
    usedAt?: Date;
  },
): Promise<void> {
  await db.insert(portalAccessCodes).values({
    codeHash: accessCodeHash(options.secret, options.code),
    conversationKey: options.conversationKey,
    expiresAt: options.expiresAt ?? new Date(Date.now() + 30 * 60_000),
    usedAt: options.usedAt ?? null,
  });
}
