// Factories and a raw SSE reader for the agent API's tests: accounts and sessions as rows,
// messages queued the way the webhook queues them (outbox event + row in one transaction).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { RelayContext } from '../context.js';
import { MESSAGE_EVENT, type MessageEventPayload } from '../events.js';
import { accounts, inboundMessageBodies, inboundMessages } from '../schema.js';
import { hashToken, newToken } from '../tokens.js';
import { accountTopic } from '../topics.js';

export interface TestAccount {
  readonly id: string;
  readonly token: string;
}

export async function makeAccount(
  ctx: RelayContext,
  options: { rateLimitPerMinute?: number; disabled?: boolean } = {},
): Promise<TestAccount> {
  const token = newToken();
  const [row] = await ctx.db
    .insert(accounts)
    .values({
      relayTokenHash: hashToken(token),
      rateLimitPerMinute: options.rateLimitPerMinute ?? 1000,
      disabledAt: options.disabled ? new Date() : null,
    })
    .returning({ id: accounts.id });
  return { id: row!.id, token };
}

export interface QueuedTestMessage {
  readonly id: string;
  readonly seq: number;
  readonly text: string;
}

/** Queues a Kakao message for an account exactly as the webhook does. */
export async function queueMessage(
  ctx: RelayContext,
  accountId: string,
  options: {
    text?: string;
    conversationKey?: string;
    callbackUrl?: string | null;
    callbackExpiresAt?: Date | null;
  } = {},
): Promise<QueuedTestMessage> {
  const id = randomUUID();
  const text = options.text ?? `hello ${id.slice(0, 8)}`;
  const conversationKey = options.conversationKey ?? 'bot-1:user-1';
  const createdAt = new Date();
  const kakaoPayload = {
    userRequest: {
      utterance: text,
      user: { id: 'u', properties: { plusfriendUserKey: 'user-1' } },
    },
    bot: { id: 'bot-1' },
  };
  const normalized = { userId: 'user-1', text, channelId: 'bot-1' };
  const payload: MessageEventPayload = {
    id,
    conversationKey,
    kakaoPayload,
    normalized,
    createdAt: createdAt.toISOString(),
  };
  const seq = await ctx.pipeline.transaction(async (tx, outbox) => {
    const [record] = await outbox.append([
      { type: MESSAGE_EVENT, topic: accountTopic(accountId), payload },
    ]);
    await tx.insert(inboundMessages).values({
      id,
      accountId,
      conversationKey,
      callbackUrl: options.callbackUrl ?? null,
      callbackExpiresAt:
        options.callbackExpiresAt === undefined
          ? new Date(Date.now() + 55_000)
          : options.callbackExpiresAt,
      status: 'queued',
      eventSeq: record!.seq,
      createdAt,
    });
    await tx
      .insert(inboundMessageBodies)
      .values({ messageId: id, kakaoPayload, normalizedMessage: normalized });
    return record!.seq;
  });
  return { id, seq, text };
}

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** A raw reader of an agent stream: every byte as received, and the events parsed from them. */
export interface SseReader {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  events(): SseEvent[];
  /** Resolves once the received text satisfies `test` (checked on every chunk). */
  until(what: string, test: (text: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` events of `type` arrived; returns them. */
  eventsOf(type: string, count: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  ended(): Promise<void>;
  close(): void;
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n').slice(0, -1)) {
    let id: string | undefined;
    let event: string | undefined;
    let data: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (event && data)
      events.push({ id, event, data: JSON.parse(data) as Record<string, unknown> });
  }
  return events;
}

/** Opens GET /v1/events; resolves once the response headers arrived (any status). */
export function openStream(
  baseUrl: string,
  token: string,
  options: { lastEventId?: string; path?: string } = {},
): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
    };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const request = http.get(`${baseUrl}${options.path ?? '/v1/events'}`, { headers }, (res) => {
      let text = '';
      let done = false;
      const listeners = new Set<() => void>();
      const notify = () => {
        for (const listener of [...listeners]) listener();
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        notify();
      });
      const finish = () => {
        done = true;
        notify();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      const until = (what: string, test: (t: string) => boolean, timeoutMs = 10_000) =>
        new Promise<void>((ok, fail) => {
          const check = () => {
            if (test(text)) {
              cleanup();
              ok();
            } else if (done) {
              cleanup();
              fail(new Error(`stream ended before ${what}; received:\n${text}`));
            }
          };
          const timer = setTimeout(() => {
            cleanup();
            fail(new Error(`timed out waiting for ${what}; received:\n${text}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            listeners.delete(check);
          };
          listeners.add(check);
          check();
        });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        events: () => parseSse(text),
        until,
        async eventsOf(type, count) {
          await until(
            `${count} ${type} event(s)`,
            (t) => parseSse(t).filter((e) => e.event === type).length >= count,
          );
          return parseSse(text).filter((e) => e.event === type);
        },
        ended: () =>
          new Promise<void>((ok) => {
            if (done) return ok();
            listeners.add(() => {
              if (done) ok();
            });
          }),
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}

/** A JSON call to the server; returns status, headers and parsed body. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body };
}
