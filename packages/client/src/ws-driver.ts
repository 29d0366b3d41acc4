// The WebSocket driver: one socket's life from open to close. Authenticates with the last
// positions (the server resumes the topics it subscribes at authentication from them),
// resubscribes every other topic with its position (the server replays what was missed), follows
// the topics the server subscribes and unsubscribes on its own, correlates requests with replies
// by `id`, pings at the application level (browsers cannot send protocol pings) and asks for a
// `resume` when an event arrives after a gap.
import {
  authReplyFrame,
  closeCodes,
  connectedFrame,
  subscribedFrame,
  unsubscribedFrame,
  type ConnectedFrame,
  type EventFrame,
  type ResyncRequiredFrame,
} from '@switchboard/protocol';
import { ClientError } from './errors.js';
import type {
  Clock,
  CloseEventLike,
  DriverHost,
  Reply,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

/** Options of a {@link WsDriver}. */
export interface WsDriverOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  authIn: 'frame' | 'query';
  requestTimeoutMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  clock: Clock;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: unknown;
}

/** Topics per subscribe frame (the server's limit). */
const TOPICS_PER_FRAME = 100;
/** Resume requests for one gap before giving up and reconnecting. */
const RESUME_TRIES = 3;

const AUTH_CLOSES = new Set<number>([
  closeCodes.unauthorized.code,
  closeCodes.forbidden.code,
  closeCodes.token_expired.code,
]);
// Reconnecting after these would only repeat the mistake (a bug in the client or a deliberate end).
const FATAL_CLOSES = new Set<number>([
  closeCodes.normal.code,
  closeCodes.protocol_error.code,
  closeCodes.invalid_frame.code,
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One WebSocket connection; a new driver is made for every reconnect. */
export class WsDriver {
  private socket: WebSocketLike | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;
  /** While the post-connect resubscribe runs, gaps are expected and filled by it. */
  private syncing = true;
  private readonly resuming = new Set<string>();
  private pingTimer: unknown;
  private readonly subscribed = new Set<string>();
  /** `?token=` connections: the server's first frame says who and what is subscribed. */
  private connected:
    { resolve(frame: ConnectedFrame): void; reject(error: Error): void } | undefined;
  private readonly connectedFrame = new Promise<ConnectedFrame>((resolve, reject) => {
    this.connected = { resolve, reject };
  });

  constructor(
    private readonly host: DriverHost,
    private readonly options: WsDriverOptions,
  ) {
    // Nobody waits for it on `auth` frame connections; a stop must not be an unhandled rejection.
    this.connectedFrame.catch(() => undefined);
  }

  /** Opens the socket, authenticates and subscribes `topics`, resuming after `positions`. */
  start(token: string, topics: readonly string[], positions: ReadonlyMap<string, number>): void {
    const url = new URL(this.options.url);
    if (this.options.authIn === 'query') url.searchParams.set('token', token);
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(url.toString());
    } catch (err) {
      this.stop();
      this.host.dropped({
        kind: 'fatal',
        error: err instanceof Error ? err : new Error(String(err)),
      });
      return;
    }
    this.socket = socket;
    socket.onmessage = (event: { data: unknown }) => this.onMessage(event.data);
    socket.onclose = (event: CloseEventLike) => this.onClose(event.code, event.reason);
    // Errors are followed by a close event, which decides what happens next.
    socket.onerror = () => undefined;
    socket.onopen = () => {
      this.handshake(token, topics, positions).catch((err: unknown) => {
        if (this.stopped) return;
        // A refused token is answered with a close frame (4001/4007) that is on its way.
        if (
          err instanceof ClientError &&
          (err.code === 'unauthorized' || err.code === 'token_expired')
        )
          return;
        this.drop({ kind: 'retry', reason: err instanceof Error ? err.message : String(err) });
      });
    };
  }

  /** Closes the socket without reporting back; pending requests fail with `disconnected`. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.connected?.reject(new ClientError('disconnected', 'the connection closed'));
    this.options.clock.clearTimeout(this.pingTimer);
    const socket = this.socket;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      socket.onopen = null;
      // CONNECTING (0) or OPEN (1)
      if (socket.readyState <= 1) {
        try {
          socket.close(1000, 'client closing');
        } catch {
          // A socket that never opened may refuse; it is abandoned either way.
        }
      }
    }
    for (const [id, pending] of this.pending) {
      this.options.clock.clearTimeout(pending.timer);
      pending.reject(new ClientError('disconnected', 'the connection closed before the reply'));
      this.pending.delete(id);
    }
  }

  /** Sends a frame with a fresh id; resolves with the reply, rejects on error replies. */
  request(
    frame: Record<string, unknown> & { op: string },
    timeoutMs = this.options.requestTimeoutMs,
  ): Promise<Reply> {
    const socket = this.socket;
    if (this.stopped || !socket || socket.readyState !== 1) {
      return Promise.reject(new ClientError('disconnected', 'not connected'));
    }
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('timeout', `no reply to ${frame.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Subscribes topics on the open connection, resuming those with a position. */
  async subscribe(
    topics: readonly string[],
    positions: ReadonlyMap<string, number>,
    reportDenied = false,
  ): Promise<void> {
    for (const batch of chunks(topics, TOPICS_PER_FRAME)) {
      try {
        await this.subscribeBatch(batch, positions);
      } catch (err) {
        if (!reportDenied || !(err instanceof ClientError && err.code === 'forbidden')) throw err;
        // One refused topic fails the whole frame (a grant was withdrawn): find which, keep the rest.
        for (const topic of batch) {
          try {
            await this.subscribeBatch([topic], positions);
          } catch (inner) {
            if (!(inner instanceof ClientError && inner.code === 'forbidden')) throw inner;
            this.host.denied(topic, inner);
          }
        }
      }
    }
  }

  private async subscribeBatch(
    topics: readonly string[],
    positions: ReadonlyMap<string, number>,
  ): Promise<void> {
    const known = topics
      .filter((t) => positions.has(t))
      .map((t) => [t, positions.get(t)!] as const);
    const reply = await this.request({
      op: 'subscribe',
      topics,
      ...(known.length > 0 ? { positions: Object.fromEntries(known) } : {}),
    });
    if (isRecord(reply.positions)) this.host.baseline(reply.positions);
    for (const topic of topics) this.subscribed.add(topic);
  }

  /** Whether this connection is subscribed to the topic already. */
  covers(topic: string): boolean {
    return this.subscribed.has(topic);
  }

  /** Unsubscribes topics on the open connection. */
  async unsubscribe(topics: readonly string[]): Promise<void> {
    for (const batch of chunks(topics, TOPICS_PER_FRAME)) {
      await this.request({ op: 'unsubscribe', topics: batch });
      for (const topic of batch) this.subscribed.delete(topic);
    }
  }

  /** Events are missing on a topic: ask the server to replay them after the last one seen. */
  fillGap(topic: string, tries = 0): void {
    if (this.syncing || this.stopped || this.resuming.has(topic)) return;
    const after = this.host.gapAfter(topic);
    if (after === undefined) return;
    this.resuming.add(topic);
    this.request({ op: 'resume', positions: { [topic]: after } }).then(
      () => {
        this.resuming.delete(topic);
        if (this.host.gapAfter(topic) === undefined) return;
        // Still missing (a replay of the server's own was running): ask again, then reconnect,
        // which resubscribes with positions.
        if (tries + 1 >= RESUME_TRIES) {
          this.drop({ kind: 'resume', reason: `could not fill a gap on ${topic}` });
        } else {
          this.fillGap(topic, tries + 1);
        }
      },
      (err: unknown) => {
        this.resuming.delete(topic);
        if (!this.stopped) this.host.error(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private async handshake(
    token: string,
    topics: readonly string[],
    positions: ReadonlyMap<string, number>,
  ): Promise<void> {
    let connected: ConnectedFrame;
    let resume: string[];
    if (this.options.authIn === 'frame') {
      // The server resumes the topics it subscribes at authentication from these positions
      // (ignoring the others): exactly what was missed, nothing twice.
      const raw = await this.request({
        op: 'auth',
        token,
        ...(positions.size > 0 ? { positions: Object.fromEntries(positions) } : {}),
      });
      const reply = authReplyFrame.safeParse(raw);
      if (!reply.success)
        throw new ClientError('bad_reply', 'the server sent a malformed auth reply');
      if (!reply.data.success) throw new ClientError(reply.data.code, reply.data.message);
      connected = {
        op: 'connected',
        userId: reply.data.userId,
        positions: reply.data.positions ?? {},
      };
      resume = [];
    } else {
      // Subscribed live from their heads at the handshake: replay after the known positions.
      connected = await this.waitConnected();
      resume = Object.keys(connected.positions).filter((topic) => positions.has(topic));
    }
    for (const topic of Object.keys(connected.positions)) this.subscribed.add(topic);
    this.host.authenticated({
      userId: connected.userId,
      positions: connected.positions,
      transport: 'ws',
    });
    const others = topics.filter((topic) => !(topic in connected.positions));
    await this.subscribe([...resume, ...others], positions, true);
    if (this.stopped) return;
    this.syncing = false;
    this.host.opened({ userId: connected.userId });
    for (const topic of this.host.gaps()) this.fillGap(topic);
    this.schedulePing();
  }

  private waitConnected(): Promise<ConnectedFrame> {
    const timer = this.options.clock.setTimeout(
      () =>
        this.connected?.reject(
          new ClientError(
            'timeout',
            `no connected frame within ${this.options.requestTimeoutMs} ms`,
          ),
        ),
      this.options.requestTimeoutMs,
    );
    return this.connectedFrame.finally(() => this.options.clock.clearTimeout(timer));
  }

  private schedulePing(): void {
    if (this.options.pingIntervalMs <= 0 || this.stopped) return;
    this.pingTimer = this.options.clock.setTimeout(() => {
      this.request({ op: 'ping' }, this.options.pongTimeoutMs).then(
        () => this.schedulePing(),
        () => {
          if (!this.stopped) {
            this.drop({
              kind: 'retry',
              code: closeCodes.pong_timeout.code,
              reason: 'no pong in time',
            });
          }
        },
      );
    }, this.options.pingIntervalMs);
  }

  private onMessage(data: unknown): void {
    if (this.stopped) return;
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      this.host.error(new ClientError('bad_reply', 'the server sent a frame that is not JSON'));
      return;
    }
    if (!isRecord(frame) || typeof frame.op !== 'string') return;
    const id = frame.id;
    if (typeof id === 'number' && this.pending.has(id)) {
      const pending = this.pending.get(id)!;
      this.pending.delete(id);
      this.options.clock.clearTimeout(pending.timer);
      if (frame.op === 'error' || frame.success === false) {
        pending.reject(
          new ClientError(
            typeof frame.code === 'string' ? frame.code : 'internal_error',
            typeof frame.message === 'string' ? frame.message : 'request failed',
          ),
        );
      } else {
        pending.resolve(frame as Reply);
      }
      return;
    }
    switch (frame.op) {
      case 'event':
        if (typeof frame.topic === 'string' && typeof frame.type === 'string') {
          this.host.event(frame as unknown as EventFrame);
          const topic = frame.topic;
          if (this.host.gapAfter(topic) !== undefined) this.fillGap(topic);
        }
        return;
      case 'resync_required':
        if (typeof frame.topic === 'string' && typeof frame.latest === 'number') {
          this.host.resync(frame as unknown as ResyncRequiredFrame);
        }
        return;
      case 'connected': {
        const parsed = connectedFrame.safeParse(frame);
        if (parsed.success) this.connected?.resolve(parsed.data);
        return;
      }
      case 'subscribed': {
        const parsed = subscribedFrame.safeParse(frame);
        if (!parsed.success) return;
        for (const topic of Object.keys(parsed.data.positions)) this.subscribed.add(topic);
        this.host.subscribedByServer(parsed.data.positions);
        return;
      }
      case 'unsubscribed': {
        const parsed = unsubscribedFrame.safeParse(frame);
        if (!parsed.success) return;
        for (const topic of parsed.data.topics) this.subscribed.delete(topic);
        this.host.unsubscribedByServer(parsed.data.topics);
        return;
      }
      case 'error':
        this.host.error(
          new ClientError(
            typeof frame.code === 'string' ? frame.code : 'internal_error',
            typeof frame.message === 'string' ? frame.message : 'server error',
          ),
        );
        return;
      default:
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    if (this.stopped) return;
    if (AUTH_CLOSES.has(code)) this.drop({ kind: 'auth', code, reason });
    else if (FATAL_CLOSES.has(code)) this.drop({ kind: 'fatal', code, reason });
    else this.drop({ kind: 'retry', code, reason });
  }

  private drop(drop: Parameters<DriverHost['dropped']>[0]): void {
    this.stop();
    this.host.dropped(drop);
  }
}
