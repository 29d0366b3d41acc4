// A small WebSocket client for cluster tests: it keeps the last seq per topic and, when its node
// goes away, reconnects to another one and resumes from those positions. It records every event
// frame as received (duplicates included), so tests can assert exactly-once, in-order delivery.
import WebSocket from 'ws';

export interface ReceivedEvent {
  readonly topic: string;
  readonly seq: number;
  readonly n: number;
  /** Index of the node the event came from. */
  readonly node: number;
  /** Which of this client's connections (1, 2, …) delivered it. */
  readonly connection: number;
}

export interface Reconnect {
  readonly from: number;
  readonly to: number;
  /** From noticing the close to being subscribed again on the new node. */
  readonly ms: number;
}

export interface ResumingClientOptions {
  name: string;
  token: string;
  topics: readonly string[];
  /** WebSocket base URLs of the nodes, by index. */
  nodes: readonly string[];
  /** Nodes known to be gone; reconnects skip them. */
  isDown?: (node: number) => boolean;
  timeoutMs?: number;
}

type Frame = Record<string, unknown>;

export class ResumingClient {
  readonly events: ReceivedEvent[] = [];
  readonly positions = new Map<string, number>();
  /** Server frames other than events and replies (resync_required, errors). */
  readonly notices: Frame[] = [];
  /** Events that are not test ticks (`{ n }`), e.g. `presence.changed`. */
  readonly otherEvents: Frame[] = [];
  readonly reconnects: Reconnect[] = [];
  node = -1;
  private connectionCount = 0;
  private ws: WebSocket | undefined;
  private autoReconnect = false;
  private reconnecting: Promise<void> | undefined;
  /** Set while a reconnect loop runs, so a close during one of its attempts starts no other. */
  private inReconnect = false;
  private nextId = 1;
  private readonly replies = new Map<number, (frame: Frame) => void>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: ResumingClientOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Connects to `node`, authenticates and subscribes (resuming from the known positions). */
  async connect(node: number): Promise<void> {
    const url = this.options.nodes[node];
    if (!url) throw new Error(`${this.options.name}: no node ${node}`);
    // Taken before the new connection delivers anything: what this client really has.
    const positions = Object.fromEntries(this.positions);
    const ws = new WebSocket(`${url}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
    });
    this.ws = ws;
    this.node = node;
    const connection = ++this.connectionCount;
    ws.on('error', () => undefined);
    ws.on('message', (raw: Buffer) =>
      this.onFrame(node, connection, JSON.parse(raw.toString('utf8')) as Frame),
    );
    ws.on('close', () => {
      for (const answer of this.replies.values()) answer({ op: 'error', code: 'closed' });
      this.replies.clear();
      if (this.ws === ws) {
        this.ws = undefined;
        if (this.autoReconnect && !this.inReconnect) {
          this.reconnecting = this.reconnectAfterLoss(node);
        }
      }
      this.notify();
    });
    // The user topic and broadcast start at authentication, so their positions go with it.
    const auth = await this.request({ op: 'auth', token: this.options.token, positions });
    if (auth.success !== true) throw new Error(`${this.options.name}: auth failed ${str(auth)}`);
    const atAuth = new Set([`user.${String(auth.userId)}`, 'broadcast']);
    const topics = this.options.topics.filter((t) => !atAuth.has(t));
    if (topics.length === 0) return;
    const sub = await this.request({
      op: 'subscribe',
      topics,
      positions: Object.fromEntries(
        topics.flatMap((t) => (t in positions ? [[t, positions[t]]] : [])),
      ),
    });
    if (sub.success !== true) throw new Error(`${this.options.name}: subscribe failed ${str(sub)}`);
  }

  /** From now on, a lost connection is followed by a reconnect to another live node. */
  keepConnected(): void {
    this.autoReconnect = true;
  }

  /** Closes the connection without reconnecting; resolves once it is closed. */
  async disconnect(): Promise<void> {
    this.autoReconnect = false;
    const ws = this.ws;
    if (!ws) return;
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await closed;
  }

  /** Resolves once any pending reconnect finished (or failed). */
  async settled(): Promise<void> {
    await this.reconnecting;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Events received on one topic, in arrival order. */
  received(topic: string): ReceivedEvent[] {
    return this.events.filter((e) => e.topic === topic);
  }

  /** Resolves once `condition` holds, re-checked on every frame and close. */
  async until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.options.name}: timed out after ${timeoutMs} ms waiting for ${what}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 500));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.listeners.add(done);
      });
    }
  }

  /** Sends a frame with an id; resolves with the reply echoing it. */
  request(frame: Frame, timeoutMs = this.options.timeoutMs ?? 10_000): Promise<Frame> {
    const ws = this.ws;
    if (!ws) return Promise.reject(new Error(`${this.options.name}: not connected`));
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(
          new Error(`${this.options.name}: no reply to ${String(frame.op)} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.replies.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /**
   * What arrived on `topic`, as runs of consecutive seqs per connection (`#2@node-1 401-950`),
   * so a failed assertion shows where a gap or a repeat happened.
   */
  describe(topic: string): string {
    const runs: string[] = [];
    let start: ReceivedEvent | undefined;
    let last: ReceivedEvent | undefined;
    const flush = () => {
      if (start && last) {
        runs.push(`#${start.connection}@node-${start.node + 1} ${start.seq}-${last.seq}`);
      }
    };
    for (const event of this.received(topic)) {
      if (!last || event.connection !== last.connection || event.seq !== last.seq + 1) {
        flush();
        start = event;
      }
      last = event;
    }
    flush();
    return `${this.options.name} on ${topic}: ${runs.join(', ') || 'nothing'}`;
  }

  private onFrame(node: number, connection: number, frame: Frame): void {
    if (frame.op === 'event') {
      const { topic, seq, n } = frame;
      if (typeof topic !== 'string' || typeof seq !== 'number' || typeof n !== 'number') {
        this.otherEvents.push(frame);
      } else {
        this.events.push({ topic, seq, n, node, connection });
        this.positions.set(topic, Math.max(seq, this.positions.get(topic) ?? 0));
      }
    } else if (typeof frame.id === 'number' && this.replies.has(frame.id)) {
      const resolve = this.replies.get(frame.id)!;
      this.replies.delete(frame.id);
      resolve(frame);
    } else {
      this.notices.push(frame);
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
  }

  /** Tries the other nodes in turn (backing off a little) until one accepts the resume. */
  private async reconnectAfterLoss(from: number): Promise<void> {
    this.inReconnect = true;
    try {
      await this.tryNodes(from);
    } finally {
      this.inReconnect = false;
    }
  }

  private async tryNodes(from: number): Promise<void> {
    const started = Date.now();
    const count = this.options.nodes.length;
    for (let attempt = 1; this.autoReconnect; attempt++) {
      const to = (from + attempt) % count;
      if (to !== from && !this.options.isDown?.(to)) {
        try {
          await this.connect(to);
          // Closed again right after subscribing: its close started no reconnect, so go on here.
          if (!this.connected) throw new Error('closed while resuming');
          this.reconnects.push({ from, to, ms: Date.now() - started });
          return;
        } catch {
          // Failed or half-open (refused auth or subscribe): drop it; this loop tries the next.
          const failed = this.ws;
          this.ws = undefined;
          failed?.terminate();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * attempt, 500)));
      if (Date.now() - started > 30_000) {
        this.notices.push({ op: 'error', code: 'reconnect_failed' });
        return;
      }
    }
  }
}

function str(frame: Frame): string {
  return JSON.stringify(frame).slice(0, 500);
}
