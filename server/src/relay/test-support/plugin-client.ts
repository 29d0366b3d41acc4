// A clean-room agent client that speaks to the relay exactly as the OpenClaw Kakao plugin does on
// the wire: URLs relative to a relay URL ending in `/`, plugin-created sessions, the SSE stream
// over fetch with the plugin's framing quirks and reconnect policy, and replies that count only
// with a boolean `success`. It records every event it parses so tests can prove exactly-once,
// in-order delivery. Written from the wire contract alone, not from the plugin's sources.
import { z } from 'zod';

/** The inbound message shape the plugin accepts; anything else it drops. */
const inboundMessageSchema = z.object({
  id: z.string().min(1),
  conversationKey: z.string().min(1),
  normalized: z.object({ userId: z.string(), text: z.string(), channelId: z.string() }),
  createdAt: z.iso.datetime({ offset: true }),
  kakaoPayload: z.unknown().optional(),
});

export type InboundMessage = z.infer<typeof inboundMessageSchema>;

const pairingCompleteSchema = z.object({ kakaoUserId: z.string(), pairedAt: z.string() });
const pairingExpiredSchema = z.object({ reason: z.string() });

export interface RecordedEvent {
  readonly type: string;
  /** The block's `id:` line, if any. */
  readonly id: string | undefined;
  readonly data: Record<string, unknown>;
  /** Which successful connection (1-based) carried it. */
  readonly connection: number;
  /** `performance.now()` when it was parsed. */
  readonly receivedAt: number;
}

/** A request the relay refused: HTTP status, `error.code` if any, and the human message. */
export class RelayHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ''}: ${message}`);
    this.name = 'RelayHttpError';
  }
}

export interface PluginClientOptions {
  /** The relay's base address; read again on every connect so a test can move the agent. */
  relayUrl: string | (() => string);
  /** A session token or an account relay token; a session is created when absent. */
  token?: string;
  /** First reconnect delay; the plugin's is 1 s. */
  reconnectBaseMs?: number;
  maxReconnectDelayMs?: number;
  /** A connection attempt is aborted after this long and started again (the plugin: 300 s). */
  attemptLifetimeMs?: number;
  maxConsecutiveFailures?: number;
  requestTimeoutMs?: number;
  /** Source of jitter; injectable for tests. */
  random?: () => number;
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'waiting' | 'invalidated' | 'stopped';

export interface SessionCreated {
  sessionToken: string;
  pairingCode: string;
  expiresIn: number;
  status: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** `base` normalized to end in `/`, then `path` resolved against it, as the plugin builds URLs. */
export function relayEndpoint(base: string, path: string): string {
  const normalized = base.endsWith('/') ? base : `${base}/`;
  return new URL(path, normalized).toString();
}

/** The delay before reconnect attempt `failures` (0-based): base·2^n plus ≤ 20 % jitter, capped. */
export function reconnectDelay(
  failures: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = baseMs * 2 ** failures;
  return Math.min(maxMs, exponential + exponential * 0.2 * random());
}

/** The human message of an error body in any of the shapes relays have used. */
export function errorMessageOf(body: unknown): { code: string | undefined; message: string } {
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const error = record.error;
    if (typeof error === 'string') {
      return { code: typeof record.code === 'string' ? record.code : undefined, message: error };
    }
    if (error && typeof error === 'object') {
      const inner = error as Record<string, unknown>;
      return {
        code: typeof inner.code === 'string' ? inner.code : undefined,
        message: typeof inner.message === 'string' ? inner.message : JSON.stringify(error),
      };
    }
    if (typeof record.message === 'string') return { code: undefined, message: record.message };
  }
  return { code: undefined, message: typeof body === 'string' ? body : JSON.stringify(body) };
}

export interface ParsedBlock {
  type: string | undefined;
  id: string | undefined;
  data: string | undefined;
}

/**
 * Splits `buffer` into complete blocks at `\n\n` only (a CRLF stream never yields one, as with
 * the plugin) and returns them with the unfinished rest.
 */
export function splitSseBlocks(buffer: string): { blocks: ParsedBlock[]; rest: string } {
  const parts = buffer.split('\n\n');
  const rest = parts.pop() ?? '';
  const blocks = parts.map((part) => {
    const block: ParsedBlock = { type: undefined, id: undefined, data: undefined };
    for (const line of part.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event:')) block.type = line.slice(6).trim();
      else if (line.startsWith('data:')) block.data = line.slice(5).trim();
      else if (line.startsWith('id:')) block.id = line.slice(3).trim();
    }
    return block;
  });
  return { blocks, rest };
}

type Waiter = { check: () => boolean; resolve: () => void };

export class PluginClient {
  token: string | undefined;
  state: ClientState = 'idle';
  /** Every event parsed, in arrival order. */
  readonly events: RecordedEvent[] = [];
  /** Blocks dropped: no `event:`, no `data:`, bad JSON, or a shape the plugin rejects. */
  readonly dropped: Array<{ reason: string; block: ParsedBlock }> = [];
  /** Non-2xx answers to connect attempts, and transport errors. */
  readonly connectErrors: string[] = [];
  lastEventId: string | undefined;
  /** Successful connects so far. */
  connections = 0;
  /** What ended the client: an invalidated session, or too many failures. */
  failure: Error | undefined;

  private readonly options: Required<Omit<PluginClientOptions, 'token'>>;
  private current: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private waiters: Waiter[] = [];
  private reconnectNow: (() => void) | undefined;

  constructor(options: PluginClientOptions) {
    this.token = options.token;
    this.options = {
      relayUrl: options.relayUrl,
      reconnectBaseMs: options.reconnectBaseMs ?? 1000,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 30_000,
      attemptLifetimeMs: options.attemptLifetimeMs ?? 300_000,
      maxConsecutiveFailures: options.maxConsecutiveFailures ?? 10,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      random: options.random ?? Math.random,
    };
  }

  url(path: string): string {
    const base = this.options.relayUrl;
    return relayEndpoint(typeof base === 'function' ? base() : base, path);
  }

  /** One JSON request to the relay with the client's token; never throws on an HTTP status. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string | null; timeoutMs?: number } = {},
  ): Promise<HttpAnswer> {
    const token = options.token === null ? undefined : (options.token ?? this.token);
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.url(path), {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? this.options.requestTimeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: the caller sees the text.
    }
    return { status: response.status, body: parsed };
  }

  /** `POST v1/sessions/create`, unauthenticated; keeps the session token. */
  async createSession(): Promise<SessionCreated> {
    const answer = await this.request('POST', 'v1/sessions/create', {}, { token: null });
    if (answer.status < 200 || answer.status >= 300) throw this.errorOf(answer);
    const created = z
      .object({
        sessionToken: z.string(),
        pairingCode: z.string(),
        expiresIn: z.number(),
        status: z.string(),
      })
      .parse(answer.body);
    this.token = created.sessionToken;
    return created;
  }

  /** `GET v1/sessions/<token>/status` (the token in the path, as the plugin sends it). */
  async sessionStatus(): Promise<HttpAnswer> {
    if (!this.token) throw new Error('no session token');
    return this.request('GET', `v1/sessions/${encodeURIComponent(this.token)}/status`, undefined, {
      token: null,
    });
  }

  /**
   * `POST openclaw/reply`: resolves with the body when the relay answered 2xx with boolean
   * `success: true`, else rejects with a RelayHttpError (401/410 also forget the token).
   */
  async reply(messageId: string, response: unknown, path = 'openclaw/reply'): Promise<unknown> {
    const answer = await this.request('POST', path, { messageId, response });
    if (answer.status >= 200 && answer.status < 300) {
      const success = (answer.body as { success?: unknown } | undefined)?.success;
      if (typeof success === 'boolean' && success) return answer.body;
      throw new RelayHttpError(
        answer.status,
        undefined,
        'reply answered without success',
        answer.body,
      );
    }
    if (answer.status === 401 || answer.status === 410) this.token = undefined;
    throw this.errorOf(answer);
  }

  /** Starts the SSE loop (creating a session first when there is no token). */
  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run().catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.state = 'stopped';
      this.wake();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.reconnectNow?.();
    await this.loop;
    this.loop = undefined;
    this.state = 'stopped';
  }

  /** Aborts the current stream from the client side; the loop reconnects with backoff. */
  dropConnection(): void {
    this.current?.abort(new Error('dropped by the test'));
  }

  /** Events of `type`, optionally only those carried by connection `connection`. */
  eventsOf(type: string): RecordedEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  messages(): InboundMessage[] {
    return this.eventsOf('message').map((e) => e.data as unknown as InboundMessage);
  }

  /** Resolves once `check()` holds (re-evaluated after every event and state change). */
  until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (state ${this.state}, ` +
              `${this.connections} connections, events: ${this.events.map((e) => `${e.type}#${e.id ?? '-'}`).join(' ')}; ` +
              `errors: ${this.connectErrors.slice(-3).join(' | ')}${this.failure ? `; failed: ${this.failure.message}` : ''})`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves with the first event of `type` matching `match` (already received or next). */
  async nextEvent(
    type: string,
    match: (event: RecordedEvent) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<RecordedEvent> {
    let found: RecordedEvent | undefined;
    await this.until(
      `a ${type} event`,
      () => {
        found = this.events.find((e) => e.type === type && match(e));
        return found !== undefined;
      },
      timeoutMs,
    );
    return found!;
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => w.check());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve();
  }

  private errorOf(answer: HttpAnswer): RelayHttpError {
    const { code, message } = errorMessageOf(answer.body);
    return new RelayHttpError(answer.status, code, message, answer.body);
  }

  private async run(): Promise<void> {
    if (!this.token) await this.createSession();
    let failures = 0;
    while (!this.stopped) {
      const outcome = await this.connectOnce();
      if (this.stopped) break;
      if (outcome.kind === 'invalidated') {
        this.token = undefined;
        this.state = 'invalidated';
        this.failure = outcome.error;
        this.wake();
        return;
      }
      if (outcome.kind === 'reconnect') {
        failures = 0;
        continue;
      }
      // A failed attempt or a stream that broke: back off, then try again.
      if (outcome.connected) failures = 0;
      if (failures >= this.options.maxConsecutiveFailures) {
        throw new Error(`gave up after ${failures} consecutive failures: ${outcome.reason}`);
      }
      const wait = reconnectDelay(
        failures,
        this.options.reconnectBaseMs,
        this.options.maxReconnectDelayMs,
        this.options.random,
      );
      failures += 1;
      this.state = 'waiting';
      this.wake();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.reconnectNow = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.reconnectNow = undefined;
    }
  }

  private async connectOnce(): Promise<
    | { kind: 'reconnect' }
    | { kind: 'failed'; connected: boolean; reason: string }
    | { kind: 'invalidated'; error: Error }
  > {
    const controller = new AbortController();
    this.current = controller;
    const lifetime = setTimeout(
      () => controller.abort(new Error('attempt lifetime reached')),
      this.options.attemptLifetimeMs,
    );
    let connected = false;
    let reconnectAfterPairing = false;
    this.state = 'connecting';
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${this.token ?? ''}`,
        accept: 'text/event-stream',
        'cache-control': 'no-cache',
      };
      if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
      const response = await fetch(this.url('v1/events'), {
        headers,
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 410) {
        const text = await response.text().catch(() => '');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Keep the text.
        }
        return { kind: 'invalidated', error: this.errorOf({ status: response.status, body }) };
      }
      if (!response.ok || !response.body) {
        const text = await response.text().catch(() => '');
        const reason = `HTTP ${response.status}: ${text.slice(0, 200)}`;
        this.connectErrors.push(reason);
        return { kind: 'failed', connected: false, reason };
      }
      connected = true;
      this.connections += 1;
      const connection = this.connections;
      this.state = 'open';
      this.wake();
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const { blocks, rest } = splitSseBlocks(buffer);
        buffer = rest;
        for (const block of blocks) {
          if (this.handleBlock(block, connection) === 'reconnect') reconnectAfterPairing = true;
        }
        if (reconnectAfterPairing) {
          // The stream was bound when it opened; the paired account's events need a new one.
          controller.abort(new Error('pairing complete'));
          return { kind: 'reconnect' };
        }
      }
      // A cleanly ended stream is reopened at once, without backoff.
      return { kind: 'reconnect' };
    } catch (err) {
      if (reconnectAfterPairing) return { kind: 'reconnect' };
      const reason = controller.signal.aborted
        ? String((controller.signal.reason as Error | undefined)?.message ?? 'aborted')
        : err instanceof Error
          ? err.message
          : String(err);
      if (reason === 'attempt lifetime reached') return { kind: 'reconnect' };
      this.connectErrors.push(reason);
      return { kind: 'failed', connected, reason };
    } finally {
      clearTimeout(lifetime);
      if (this.current === controller) this.current = undefined;
    }
  }

  private handleBlock(block: ParsedBlock, connection: number): 'reconnect' | undefined {
    if (block.id !== undefined && block.id !== '') this.lastEventId = block.id;
    if (!block.type || block.data === undefined) {
      this.dropped.push({ reason: 'missing event or data', block });
      return undefined;
    }
    let data: unknown;
    try {
      data = JSON.parse(block.data);
    } catch {
      this.dropped.push({ reason: 'malformed JSON', block });
      return undefined;
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) {
      this.dropped.push({ reason: 'not an object', block });
      return undefined;
    }
    const schema =
      block.type === 'message'
        ? inboundMessageSchema
        : block.type === 'pairing_complete'
          ? pairingCompleteSchema
          : block.type === 'pairing_expired'
            ? pairingExpiredSchema
            : undefined;
    if (schema && !schema.safeParse(data).success) {
      this.dropped.push({ reason: `not a valid ${block.type}`, block });
      return undefined;
    }
    this.events.push({
      type: block.type,
      id: block.id,
      data: data as Record<string, unknown>,
      connection,
      receivedAt: performance.now(),
    });
    this.wake();
    return block.type === 'pairing_complete' ? 'reconnect' : undefined;
  }
}
