// WebSocket transport (`ws`) at /ws and /api/v1/ws: handshake auth (header, ?token=, or a first
// `auth` frame), core ops, module ops, heartbeats and bounded outgoing buffers.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  anyClientFrame,
  closeCodes,
  coreClientFrame,
  errorCatalogue,
  MAX_FRAME_BYTES,
  type CloseCodeName,
  type ConnectedFrame,
  type ErrorCode,
} from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { rawErrorResponse } from '../http/raw-response.js';
import { jsonInputProblem } from '../security/well-formed.js';
import type { Logger, Metrics } from '../observability/index.js';
import { AuthError, type Authenticator, type Identity } from './auth.js';
import type { Connection, ConnectionSink, OutgoingEvent } from './connection.js';
import type { Hub } from './hub.js';
import type { Admission, Refusal } from './limits.js';
import { isDatabaseUnavailable } from '../store/index.js';
import { OpError, type OpRegistry } from './ops.js';
import type { TopicPolicies } from './topics.js';
import { DeadlineQueue, MAX_TIMER_MS, type Deadline } from './deadline-queue.js';
import { directSocketOf, textFrameOf, writeFrame } from './ws-frame-writer.js';

export const WS_PATHS = ['/ws', '/api/v1/ws'];

export interface WsTransportOptions {
  app: FastifyInstance;
  hub: Hub;
  auth: Authenticator;
  policies: TopicPolicies;
  ops: OpRegistry;
  logger: Logger;
  maxBufferBytes: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  authTimeoutMs: number;
  perMessageDeflate: boolean;
  /** Client frames allowed per second (burst is twice this). */
  framesPerSecond?: number;
  /** Decides whether a handshake may proceed (limits, allow/deny lists); released at close. */
  admit?: (request: IncomingMessage, ip: string) => Admission;
  /** Decides whether a user may open one more connection; asked right before registering it. */
  admitUser?: (userId: string) => Refusal | undefined;
  /** The client's address (honouring a trusted proxy); the socket's peer address otherwise. */
  clientIp?: (request: IncomingMessage) => string;
  metrics?: Metrics;
}

/** What every socket of one transport shares, so a socket's own state holds a reference only. */
interface TransportShared {
  readonly maxBufferBytes: number;
  close(socket: WebSocket, name: CloseCodeName, message?: string): void;
}

/**
 * One socket's state, and the hub's sink for it: one object per socket, with every field set in
 * the constructor (so none spills into a separate property store) and the event listeners shared
 * by all sockets. Idle connections are what a node holds most of, so their size is the node's
 * capacity.
 */
class SocketState implements ConnectionSink, Deadline {
  identity: Identity | undefined = undefined;
  connection: Connection | undefined = undefined;
  lastPong: number;
  tokens: number;
  lastRefill: number;
  badFrames = 0;
  authTimer: NodeJS.Timeout | undefined = undefined;
  /** The tail of this socket's frame handling while a frame is pending; frames run in order. */
  queue: Promise<void> | undefined = undefined;
  // The token expiry, scheduled on the transport's DeadlineQueue.
  dueAt = 0;
  deadlineSlot = -1;
  /** The TCP socket that events are written to as ready-made frames, when `ws` need not frame them. */
  private readonly direct: Socket | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    /** Frees the admission slot taken at the handshake; called once, when the socket closes. */
    readonly releaseAdmission: (() => void) | undefined,
    private readonly shared: TransportShared,
    tokens: number,
  ) {
    const now = Date.now();
    this.lastPong = now;
    this.lastRefill = now;
    this.tokens = tokens;
    this.direct = directSocketOf(socket);
  }

  // On the prototype rather than in every instance.
  get transport(): 'ws' {
    return 'ws';
  }

  sendEvent(event: OutgoingEvent): boolean {
    const socket = this.socket;
    if (socket.bufferedAmount > this.shared.maxBufferBytes) return false;
    if (socket.readyState !== socket.OPEN) return true; // closing: it will resume elsewhere
    const direct = this.direct;
    if (direct && !direct.destroyed) writeFrame(direct, frameBytes(event));
    else socket.send(event.wsFrame());
    return true;
  }

  sendFrame(frame: Record<string, unknown>): boolean {
    if (this.socket.bufferedAmount > this.shared.maxBufferBytes) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  close(name: CloseCodeName, message?: string): void {
    this.shared.close(this.socket, name, message);
  }
}

let framedEvent: OutgoingEvent | undefined;
let framed: Buffer | undefined;

/**
 * The complete WebSocket frame, built once per delivery and shared by every socket: the hub
 * writes a delivery to all its local subscribers in one pass, so the last event's frame is the
 * one asked for (an event held back during a replay and sent later is framed again).
 */
function frameBytes(event: OutgoingEvent): Buffer {
  if (event !== framedEvent || !framed) {
    framed = textFrameOf(event.wsFrame());
    framedEvent = event;
  }
  return framed;
}

/**
 * Module-level on purpose: a listener created inside the upgrade handler would keep that whole
 * scope (the request, its headers, the head buffer) alive for as long as the socket lives.
 */
function destroySocket(this: Duplex): void {
  this.destroy();
}

/** Admission slots of handshakes still in progress, freed if the socket closes before `ws` has it. */
const pendingAdmissions = new WeakMap<Duplex, () => void>();

function releasePendingAdmission(this: Duplex): void {
  const release = pendingAdmissions.get(this);
  pendingAdmissions.delete(this);
  release?.();
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.from(raw).toString('utf8');
}

function closeWith(socket: WebSocket, name: CloseCodeName, message?: string): void {
  const { code, reason } = closeCodes[name];
  // Close reasons are limited to 123 bytes.
  socket.close(code, (message ?? reason).slice(0, 120));
}

function tokenFromRequest(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return url.searchParams.get('token') ?? undefined;
}

/** Ops counted under their own label; anything else is `other`, so clients cannot add series. */
const coreOps = new Set(['auth', 'subscribe', 'unsubscribe', 'resume', 'ping']);

export function attachWebSocketTransport(options: WsTransportOptions): { close(): void } {
  const { hub, auth, policies, ops, logger, metrics } = options;
  const close = (socket: WebSocket, name: CloseCodeName, message?: string) => {
    metrics?.closedByServer.inc({ transport: 'ws', code: name });
    closeWith(socket, name, message);
  };
  const framesPerSecond = options.framesPerSecond ?? 100;
  const states = new Map<WebSocket, SocketState>();
  const shared: TransportShared = { maxBufferBytes: options.maxBufferBytes, close };
  const expiries = new DeadlineQueue<SocketState>((state) => close(state.socket, 'token_expired'));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: options.perMessageDeflate,
    clientTracking: false,
  });

  function reply(socket: WebSocket, frame: Record<string, unknown>): void {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  }

  function replyError(socket: WebSocket, code: ErrorCode, message?: string, id?: unknown): void {
    const frame: Record<string, unknown> = {
      op: 'error',
      code,
      message: message ?? errorCatalogue[code].message,
    };
    if (id !== undefined) frame.id = id;
    reply(socket, frame);
  }

  async function authenticate(
    socket: WebSocket,
    state: SocketState,
    identity: Identity,
    ip: string,
    positions?: Readonly<Record<string, number>>,
  ): Promise<Record<string, number> | undefined> {
    if (state.connection) {
      // A new token for the same user refreshes the session without reconnecting.
      if (identity.userId !== state.identity?.userId) {
        close(socket, 'unauthorized', 'a connection cannot change user');
        return undefined;
      }
      state.identity = identity;
      scheduleExpiry(state);
      return undefined;
    }
    // The socket closed while its token was being checked: its close handler has run already and
    // would never remove a connection added now.
    if (states.get(socket) !== state) return undefined;
    const refusal = options.admitUser?.(identity.userId);
    if (refusal) {
      metrics?.refused.inc({ transport: 'ws', reason: refusal.reason });
      close(socket, 'too_many_connections', refusal.message);
      return undefined;
    }
    clearTimeout(state.authTimer);
    state.authTimer = undefined;
    state.identity = identity;
    scheduleExpiry(state);
    const connection = hub.addConnection(identity.userId, ip, state);
    state.connection = connection;
    return hub.subscribeDefaults(connection, new Map(Object.entries(positions ?? {})));
  }

  function scheduleExpiry(state: SocketState): void {
    const expiresAt = state.identity?.expiresAt;
    // Tokens valid for longer than a timer can wait (~24.8 days) are checked on the next refresh.
    if (expiresAt === undefined || expiresAt * 1000 - Date.now() >= MAX_TIMER_MS) {
      expiries.cancel(state);
      return;
    }
    expiries.schedule(state, expiresAt * 1000);
  }

  function allowFrame(state: SocketState): boolean {
    const now = Date.now();
    state.tokens = Math.min(
      framesPerSecond * 2,
      state.tokens + ((now - state.lastRefill) / 1000) * framesPerSecond,
    );
    state.lastRefill = now;
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }

  async function handleFrame(
    socket: WebSocket,
    state: SocketState,
    raw: RawData,
    isBinary: boolean,
    ip: string,
  ) {
    if (!allowFrame(state)) {
      close(socket, 'rate_limited');
      return;
    }
    let text = '';
    let parsed: unknown;
    try {
      if (isBinary) throw new Error('binary frames are not supported');
      text = rawText(raw);
      parsed = JSON.parse(text);
    } catch {
      metrics?.received.inc({ op: 'invalid' });
      badFrame(socket, state, 'frames are JSON text');
      return;
    }
    const frame = anyClientFrame.safeParse(parsed);
    if (!frame.success) {
      metrics?.received.inc({ op: 'invalid' });
      badFrame(socket, state, 'a frame is a JSON object with a string `op`');
      return;
    }
    const { op, id } = frame.data;
    const problem = jsonInputProblem(text, parsed);
    if (problem) {
      replyError(socket, 'invalid_frame', problem, id);
      return;
    }
    metrics?.received.inc({ op: coreOps.has(op) || ops.get(op) ? op : 'other' });

    if (op === 'ping') {
      metrics?.pulse.inc({ kind: 'ping' });
      reply(socket, { op: 'pong', id });
      return;
    }
    // Module ops (most frames) are parsed by their handler; a failed union parse is not free.
    const core = coreOps.has(op) ? coreClientFrame.safeParse(parsed) : undefined;
    if (op === 'auth') {
      if (!core?.success || core.data.op !== 'auth') {
        replyError(socket, 'invalid_frame', 'auth needs a `token`', id);
        return;
      }
      let identity: Identity;
      try {
        identity = await auth.verify(core.data.token);
      } catch (err) {
        if (!(err instanceof AuthError)) {
          // The token may be fine: resolving its user failed (the database); try again later.
          logger.error({ err }, 'resolving the identity of an auth frame failed');
          reply(socket, {
            op,
            id,
            success: false,
            code: 'internal_error',
            message: 'could not authenticate now; reconnect',
          });
          if (!state.connection) close(socket, 'internal_error');
          return;
        }
        const expired = err.reason === 'expired';
        reply(socket, {
          op,
          id,
          success: false,
          code: expired ? 'token_expired' : 'unauthorized',
          message: err.message,
        });
        if (!state.connection) close(socket, expired ? 'token_expired' : 'unauthorized');
        return;
      }
      let positions: Record<string, number> | undefined;
      try {
        positions = await authenticate(socket, state, identity, ip, core.data.positions);
      } catch (err) {
        logger.error({ err }, 'subscribing a new connection failed');
        reply(socket, {
          op,
          id,
          success: false,
          code: 'internal_error',
          message: 'could not subscribe the connection; reconnect',
        });
        close(socket, 'internal_error');
        return;
      }
      // The positions of every topic subscribed at authentication: what to resume them from.
      reply(socket, {
        op,
        id,
        success: true,
        userId: identity.userId,
        ...(positions ? { positions } : {}),
      });
      return;
    }
    const connection = state.connection;
    if (!connection) {
      replyError(socket, 'auth_required', undefined, id);
      return;
    }
    if (core?.success) {
      const f = core.data;
      switch (f.op) {
        case 'subscribe': {
          const denied: string[] = [];
          for (const topic of f.topics) {
            if (!(await policies.allows(connection.userId, topic, state.identity?.grant)))
              denied.push(topic);
          }
          if (denied.length > 0) {
            replyError(socket, 'forbidden', `not allowed to subscribe to ${denied.join(', ')}`, id);
            return;
          }
          const positions = await hub.subscribe(
            connection,
            f.topics,
            new Map(Object.entries(f.positions ?? {})),
          );
          reply(socket, { op, id, success: true, positions });
          return;
        }
        case 'unsubscribe':
          hub.unsubscribe(connection, f.topics);
          reply(socket, { op, id, success: true });
          return;
        case 'resume':
          await hub.resume(connection, new Map(Object.entries(f.positions)));
          reply(socket, { op, id, success: true });
          return;
        default:
          break;
      }
    }
    const handler = ops.get(op);
    if (handler) {
      let result: Record<string, unknown> | void;
      try {
        result = await handler(connection, frame.data);
      } catch (err) {
        if (err instanceof OpError) replyError(socket, err.code, err.message, id);
        else if (isDatabaseUnavailable(err))
          replyError(socket, 'database_unavailable', undefined, id);
        else {
          logger.error({ err, op }, 'op handler failed');
          replyError(socket, 'internal_error', undefined, id);
        }
        return;
      }
      // Copied key by key: a spread of the handler's result is allocated in the old generation.
      const answer: Record<string, unknown> = { op, id, success: true };
      if (result) for (const key in result) answer[key] = result[key];
      reply(socket, answer);
      return;
    }
    if (op === 'subscribe' || op === 'unsubscribe' || op === 'resume') {
      replyError(socket, 'invalid_frame', core?.error?.issues[0]?.message, id);
      return;
    }
    replyError(socket, 'unknown_op', `unknown op: ${op.slice(0, 64)}`, id);
  }

  function badFrame(socket: WebSocket, state: SocketState, message: string): void {
    state.badFrames += 1;
    if (state.badFrames > 10) {
      close(socket, 'invalid_frame', 'too many invalid frames');
      return;
    }
    replyError(socket, 'invalid_frame', message);
  }

  /** Runs a socket's frames one at a time, so replies keep the order of requests. */
  function enqueue(
    state: SocketState,
    work: () => Promise<void>,
    onError: (err: unknown) => void,
  ): void {
    const tail = (state.queue ?? Promise.resolve()).then(work).catch(onError);
    state.queue = tail;
    // An idle socket keeps no settled promise around.
    void tail.then(() => {
      if (state.queue === tail) state.queue = undefined;
    });
  }

  // Listeners shared by every socket (`this` is the socket): per-socket closures would cost a
  // function and a scope each.
  function onPong(this: WebSocket): void {
    const state = states.get(this);
    if (state) state.lastPong = Date.now();
    metrics?.pulse.inc({ kind: 'pong' });
  }

  function onMessage(this: WebSocket, raw: RawData, isBinary: boolean): void {
    const state = states.get(this);
    if (!state) return;
    enqueue(
      state,
      () => handleFrame(state.socket, state, raw, isBinary, state.ip),
      (err: unknown) => {
        logger.error({ err }, 'frame handler failed');
        replyError(state.socket, 'internal_error');
      },
    );
  }

  function onError(err: Error): void {
    // Oversized frames surface here before the close; ws then closes with 1009.
    logger.debug({ err: err.message }, 'websocket error');
  }

  function onClose(this: WebSocket): void {
    const state = states.get(this);
    if (!state) return;
    states.delete(this);
    expiries.cancel(state);
    clearTimeout(state.authTimer);
    state.releaseAdmission?.();
    if (state.connection) hub.removeConnection(state.connection);
  }

  function onConnection(
    socket: WebSocket,
    identity: Identity | undefined,
    ip: string,
    releaseAdmission: (() => void) | undefined,
  ) {
    const state = new SocketState(socket, ip, releaseAdmission, shared, framesPerSecond * 2);
    states.set(socket, state);
    socket.on('pong', onPong);
    socket.on('message', onMessage);
    socket.on('error', onError);
    socket.on('close', onClose);
    if (identity) {
      enqueue(
        state,
        async () => {
          const positions = await authenticate(socket, state, identity, ip);
          // No auth reply on this path: this frame tells the client what it is subscribed to.
          if (positions) {
            const connected: ConnectedFrame = {
              op: 'connected',
              userId: identity.userId,
              positions,
            };
            reply(socket, connected);
          }
        },
        (err: unknown) => {
          logger.error({ err }, 'subscribing a new connection failed');
          close(socket, 'internal_error');
        },
      );
    } else {
      state.authTimer = setTimeout(() => close(socket, 'auth_timeout'), options.authTimeoutMs);
      state.authTimer.unref();
    }
  }

  function rejectHandshake(socket: Duplex, status: number, code: ErrorCode, message: string): void {
    socket.end(
      rawErrorResponse(status, code, message, status === 429 ? { 'Retry-After': '1' } : {}),
    );
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!WS_PATHS.includes(url.pathname)) {
      rejectHandshake(socket, 404, 'not_found', `No WebSocket endpoint at ${url.pathname}`);
      return;
    }
    socket.on('error', destroySocket);
    const ip = options.clientIp?.(request) ?? request.socket.remoteAddress ?? 'unknown';
    const admission = options.admit?.(request, ip);
    if (admission && !admission.ok) {
      const { code, reason, message } = admission.refusal;
      metrics?.refused.inc({ transport: 'ws', reason });
      rejectHandshake(socket, errorCatalogue[code].status, code, message);
      return;
    }
    // The slot is held from the handshake until the TCP connection is gone, however it ends:
    // until `ws` has the socket a listener here frees it, then the socket's 'close' does.
    if (admission) {
      pendingAdmissions.set(socket, admission.release);
      socket.on('close', releasePendingAdmission);
    }
    const token = tokenFromRequest(request, url);
    const proceed = (identity: Identity | undefined) => {
      const refusal = identity && options.admitUser?.(identity.userId);
      if (refusal) {
        metrics?.refused.inc({ transport: 'ws', reason: refusal.reason });
        rejectHandshake(socket, errorCatalogue[refusal.code].status, refusal.code, refusal.message);
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        // ws destroys the socket on an error from now on, and its 'close' frees the slot.
        socket.off('error', destroySocket);
        const release = pendingAdmissions.get(socket);
        if (release) {
          pendingAdmissions.delete(socket);
          socket.off('close', releasePendingAdmission);
        }
        onConnection(ws, identity, ip, release);
      });
    };
    if (!token) {
      proceed(undefined);
      return;
    }
    auth.verify(token).then(proceed, (err: unknown) => {
      if (!(err instanceof AuthError)) {
        logger.error({ err }, 'resolving the identity of a handshake failed');
        rejectHandshake(socket, 500, 'internal_error', errorCatalogue.internal_error.message);
        return;
      }
      rejectHandshake(
        socket,
        401,
        err.reason === 'expired' ? 'token_expired' : 'unauthorized',
        err.message,
      );
    });
  };
  options.app.server.on('upgrade', onUpgrade);

  // One timer for every socket: ping those that answered, close those that did not.
  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const [socket, state] of states) {
      if (now - state.lastPong > options.pongTimeoutMs) {
        close(socket, 'pong_timeout');
        socket.terminate();
        continue;
      }
      socket.ping();
    }
  }, options.pingIntervalMs);
  heartbeat.unref();

  return {
    close() {
      clearInterval(heartbeat);
      expiries.clear();
      options.app.server.off('upgrade', onUpgrade);
      for (const socket of states.keys()) close(socket, 'going_away_reconnect');
      wss.close();
    },
  };
}
