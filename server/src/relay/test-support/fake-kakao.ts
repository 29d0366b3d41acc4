// A stand-in for Kakao i Open Builder on 127.0.0.1: it posts SkillPayloads to the relay's webhook
// as a channel chatbot does (commands, `/pair CODE`, text, with or without a callback URL) and
// serves the callback URLs it hands out with Kakao's rules — single use, valid 60 s, answered
// `{taskId,status,message,timestamp}` — recording every SkillResponse it receives. The relay
// must allow the host through RELAY_CALLBACK_INSECURE_HOSTS=127.0.0.1 (test-only).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { skillPayload, type SkillPayloadOptions } from './skill-payload.js';

export { skillPayload, type SkillPayloadOptions };

export const INVALID_CALLBACK_MESSAGE = 'Invalid callback token. Check your callback token.';
export const CALLBACK_VALIDITY_MS = 60_000;

export interface WebhookAnswer {
  status: number;
  /** The SkillResponse (or error body) the relay answered with. */
  body: unknown;
  /** From the request's start to the whole answer read, in ms. */
  ms: number;
  /** The callback URL the payload carried, if any. */
  callbackUrl: string | undefined;
}

export interface ReceivedCallback {
  readonly callbackId: string;
  readonly url: string;
  /** The SkillResponse the relay posted. */
  readonly body: unknown;
  /** What this fake answered: SUCCESS for the first valid use, FAIL otherwise. */
  readonly answeredStatus: 'SUCCESS' | 'FAIL';
  readonly receivedAt: number;
}

export interface SendOptions extends Omit<SkillPayloadOptions, 'callbackUrl'> {
  /** Attach a fresh callback URL (default true), or this exact one. */
  callback?: boolean | string;
  /** Extra headers, e.g. X-Relay-Secret. */
  headers?: Record<string, string>;
}

export interface FakeKakaoOptions {
  /** The relay's base address, e.g. http://127.0.0.1:3000. */
  relayUrl: string;
  /** Default `/kakao-talkchannel/webhook`. */
  webhookPath?: string;
  /** Sent as X-Relay-Secret on every webhook call when set. */
  webhookSecret?: string;
  callbackValidityMs?: number;
  now?: () => number;
}

interface CallbackSlot {
  issuedAt: number;
  usedAt: number | undefined;
}

type Waiter = { check: () => boolean; resolve: () => void };

export class FakeKakao {
  /** Every callback POST received, valid or not, in order. */
  readonly callbacks: ReceivedCallback[] = [];
  relayUrl: string;
  private readonly slots = new Map<string, CallbackSlot>();
  private waiters: Waiter[] = [];
  private baseUrl = '';

  private constructor(
    private readonly server: Server,
    private readonly options: FakeKakaoOptions,
  ) {
    this.relayUrl = options.relayUrl;
  }

  static async start(options: FakeKakaoOptions): Promise<FakeKakao> {
    const holder: { fake?: FakeKakao } = {};
    const server = createServer((req, res) => {
      holder.fake!.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    const fake = new FakeKakao(server, options);
    holder.fake = fake;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  /** http://127.0.0.1:<port> */
  get url(): string {
    return this.baseUrl;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** A fresh single-use callback URL, valid from now for 60 s. */
  newCallbackUrl(): string {
    const id = randomUUID();
    this.slots.set(id, { issuedAt: this.now(), usedAt: undefined });
    return `${this.baseUrl}/callback/${id}`;
  }

  /** Posts one SkillPayload to the relay's webhook and reads its answer. */
  async send(options: SendOptions): Promise<WebhookAnswer> {
    const callbackUrl =
      typeof options.callback === 'string'
        ? options.callback
        : options.callback === false
          ? undefined
          : this.newCallbackUrl();
    const payload = skillPayload({ ...options, ...(callbackUrl ? { callbackUrl } : {}) });
    return this.post(payload, options.headers, callbackUrl);
  }

  /** Posts a raw body (any JSON, or text) to the webhook. */
  async post(
    payload: unknown,
    headers: Record<string, string> = {},
    callbackUrl?: string,
  ): Promise<WebhookAnswer> {
    const started = performance.now();
    const response = await fetch(
      new URL(this.options.webhookPath ?? '/kakao-talkchannel/webhook', this.relayUrl),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.webhookSecret ? { 'x-relay-secret': this.options.webhookSecret } : {}),
          ...headers,
        },
        body: typeof payload === 'string' ? payload : JSON.stringify(payload),
        signal: AbortSignal.timeout(10_000),
      },
    );
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Keep the text: a test will say what it expected.
    }
    return { status: response.status, body, ms: performance.now() - started, callbackUrl };
  }

  /** The `simpleText` of a synchronous SkillResponse (a command's reply), or undefined. */
  static textOf(body: unknown): string | undefined {
    const outputs = (body as { template?: { outputs?: Array<{ simpleText?: { text?: string } }> } })
      ?.template?.outputs;
    return outputs?.[0]?.simpleText?.text;
  }

  /** Callback POSTs received on `url`. */
  callbacksFor(url: string): ReceivedCallback[] {
    return this.callbacks.filter((c) => c.url === url);
  }

  /** Resolves with the first callback POST received on `url` (already or next). */
  async callbackOn(url: string, timeoutMs = 10_000): Promise<ReceivedCallback> {
    await this.until(`a callback on ${url}`, () => this.callbacksFor(url).length > 0, timeoutMs);
    return this.callbacksFor(url)[0]!;
  }

  until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (${this.callbacks.length} callbacks)`,
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

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/callback\/([0-9a-f-]{36})$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"status":"ERROR","message":"not found"}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = Buffer.concat(chunks).toString('utf8');
    }
    const callbackId = match[1]!;
    const slot = this.slots.get(callbackId);
    const now = this.now();
    const valid =
      slot !== undefined &&
      slot.usedAt === undefined &&
      now - slot.issuedAt <= (this.options.callbackValidityMs ?? CALLBACK_VALIDITY_MS);
    if (valid) slot.usedAt = now;
    this.callbacks.push({
      callbackId,
      url: `${this.baseUrl}/callback/${callbackId}`,
      body,
      answeredStatus: valid ? 'SUCCESS' : 'FAIL',
      receivedAt: now,
    });
    // Kakao answers 200 either way; the verdict is in the body's status.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        valid
          ? { taskId: randomUUID(), status: 'SUCCESS', message: 'OK', timestamp: now }
          : { status: 'FAIL', message: INVALID_CALLBACK_MESSAGE },
      ),
    );
    const ready = this.waiters.filter((w) => w.check());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve();
  }
}
