// One chat client for end-to-end tests: the SDK over WebSocket, pointed at whichever node a test
// routes it to (a reconnect goes wherever the route says then), recording every event it is
// handed. From those events it builds what a chat app would show: each channel's messages with
// their edits, reactions and reply counts, the read marker and mention count its user's devices
// were told, and who is typing.
import WebSocket from 'ws';
import {
  createNodeClient,
  type ClientEvent,
  type ResyncInfo,
  type StateChange,
  type SwitchboardClient,
  type WebSocketConstructor,
} from '../../packages/client/src/node.js';
import { waitFor } from '../../server/src/test-support/processes.js';

/** A message as a client shows it; the same shape is built from the REST history. */
export interface ShownMessage {
  id: string;
  seq: number;
  authorId: string;
  body: string;
  threadRootId: string | null;
  edited: boolean;
  deleted: boolean;
  replyCount: number;
  /** emoji → the users who reacted, sorted. */
  reactions: Record<string, string[]>;
}

/** The message fields every event and the REST API carry (see the server's MessageView). */
export interface WireMessage {
  id: string;
  seq: number;
  authorId: string;
  body: string;
  threadRootId: string | null;
  editedAt: string | null;
  deletedAt: string | null;
  replyCount: number;
  reactions: Array<{ emoji: string; userIds: string[] }>;
  mentions: { userIds: string[]; channel: boolean; here: boolean };
}

export function showMessage(message: WireMessage): ShownMessage {
  return {
    id: message.id,
    seq: message.seq,
    authorId: message.authorId,
    body: message.body,
    threadRootId: message.threadRootId,
    edited: message.editedAt !== null,
    deleted: message.deletedAt !== null,
    replyCount: message.replyCount,
    reactions: Object.fromEntries(
      message.reactions.map((r) => [r.emoji, [...r.userIds].sort()] as const),
    ),
  };
}

const ROUTED_BASE = 'ws://routed.invalid';

export interface ChatDeviceOptions {
  name: string;
  token: string;
  /** The WebSocket base URL (ws://host:port) to connect to, asked on every (re)connect. */
  route: () => string;
}

export class ChatDevice {
  readonly client: SwitchboardClient;
  readonly events: ClientEvent[] = [];
  /** When each event was handed to the app (Date.now()). */
  readonly arrivals = new Map<ClientEvent, number>();
  readonly resyncs: Array<{ topic: string; info: ResyncInfo }> = [];
  readonly states: StateChange[] = [];
  readonly errors: Error[] = [];
  /** The base URL of every connection opened, in order. */
  readonly connections: string[] = [];

  constructor(readonly options: ChatDeviceOptions) {
    const connections = this.connections;
    const route = options.route;
    // The SDK takes one URL; this WebSocket sends each connection where the route says now.
    const Routed = function (url: string, protocols?: string | string[]) {
      const base = route();
      connections.push(base);
      return new WebSocket(url.replace(ROUTED_BASE, base), protocols);
    } as unknown as WebSocketConstructor;
    this.client = createNodeClient({
      url: ROUTED_BASE,
      token: options.token,
      WebSocket: Routed,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    });
    this.client.on('*', (event) => {
      this.events.push(event);
      this.arrivals.set(event, Date.now());
    });
    this.client.onResync((topic, info) => this.resyncs.push({ topic, info }));
    this.client.onState((change) => this.states.push(change));
    this.client.onError((err) => this.errors.push(err));
  }

  get name(): string {
    return this.options.name;
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  close(): void {
    this.client.close();
  }

  /** A chat op; throws with the server's error frame when it fails. */
  async op(op: string, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.client.request(op, fields);
    if (reply.success !== true) {
      throw new Error(`${this.name}: ${op} failed: ${JSON.stringify(reply)}`);
    }
    return reply;
  }

  on(topic: string): ClientEvent[] {
    return this.events.filter((e) => e.topic === topic);
  }

  /** Resolves once `condition` holds (checked every few milliseconds). */
  until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<true> {
    return waitFor(`${this.name}: ${what}`, () => Promise.resolve(condition() ? true : undefined), {
      timeoutMs,
      intervalMs: 5,
    });
  }

  /** Waits until the server has subscribed this device to `topic` (at connect or on a join). */
  subscribedTo(topic: string): Promise<true> {
    return this.until(`a subscription to ${topic}`, () =>
      this.client.serverTopics().includes(topic),
    );
  }

  /** Waits for the event of `topic` with `seq`. */
  hasSeq(topic: string, seq: number): Promise<true> {
    return this.until(`${topic} #${seq}`, () =>
      this.on(topic).some((e) => e.seq !== undefined && e.seq >= seq),
    );
  }

  /**
   * The channel's messages as this device shows them: `base` (the REST history read when it
   * started following the channel, if any) with every event it received applied in order.
   */
  messages(topic: string, base: readonly WireMessage[] = []): Map<string, ShownMessage> {
    const shown = new Map(base.map((m) => [m.id, showMessage(m)]));
    for (const event of this.on(topic)) {
      const data = event;
      switch (event.type) {
        case 'message.created':
        case 'message.updated':
        case 'message.deleted': {
          const message = showMessage(data.message as WireMessage);
          const known = shown.get(message.id);
          // Reactions and reply counts come in their own events; an edit carries them too.
          shown.set(message.id, known && event.type === 'message.created' ? known : message);
          break;
        }
        case 'reaction.added':
        case 'reaction.removed': {
          const message = shown.get(data.messageId as string);
          if (!message) break;
          const emoji = data.emoji as string;
          const users = new Set(message.reactions[emoji] ?? []);
          if (event.type === 'reaction.added') users.add(data.userId as string);
          else users.delete(data.userId as string);
          if (users.size === 0) delete message.reactions[emoji];
          else message.reactions[emoji] = [...users].sort();
          break;
        }
        case 'thread.updated': {
          const root = shown.get(data.threadRootId as string);
          if (root) root.replyCount = data.replyCount as number;
          break;
        }
      }
    }
    return shown;
  }

  /** The channel read state this user's devices were last told (`read.updated`), if any. */
  readState(
    userTopic: string,
    channelId: string,
  ): { lastReadSeq: number; mentionCount: number } | undefined {
    const told = this.on(userTopic).filter(
      (e) => e.type === 'read.updated' && e.channelId === channelId && e.threadRootId === undefined,
    );
    const last = told.at(-1) as
      (ClientEvent & { lastReadSeq: number; mentionCount: number }) | undefined;
    return last && { lastReadSeq: last.lastReadSeq, mentionCount: last.mentionCount };
  }

  /**
   * Who the device shows as typing at `now` (ms since the epoch of its receipt clock): each
   * typing event shows its user for `expiresInMs` after it arrived, unless a newer one extends it.
   */
  typingAt(activityTopic: string, now: number): string[] {
    const until = new Map<string, number>();
    for (const event of this.on(activityTopic)) {
      if (event.type !== 'typing') continue;
      const at = this.arrivals.get(event);
      if (at === undefined) continue;
      const data = event as ClientEvent & { userId: string; expiresInMs: number };
      until.set(data.userId, Math.max(until.get(data.userId) ?? 0, at + data.expiresInMs));
    }
    return [...until]
      .filter(([, end]) => now < end)
      .map(([user]) => user)
      .sort();
  }
}
