// The fan-out fast path. One delivery becomes one complete WebSocket frame (header + payload)
// built once per node; each subscriber's TCP socket gets that same Buffer in one write. Sockets
// written to during a tick are corked and uncorked together at the end of it, so several events
// for one client (a burst from the broker) leave in one syscall.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** An unmasked, final text frame (RFC 6455 §5.2) carrying `text`, encoded straight into it. */
export function textFrameOf(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  writeHeader(frame, length);
  frame.write(text, headerLength, 'utf8');
  return frame;
}

function writeHeader(frame: Buffer, length: number): void {
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
}

/**
 * The TCP socket under a `ws` WebSocket, when frames may be written to it directly: not with
 * permessage-deflate, where `ws` must compress and may queue. Extensions are settled by the
 * handshake, so this is asked once per socket (`ws.extensions` builds a string on every read);
 * check `destroyed` before each write.
 */
export function directSocketOf(ws: WebSocket): Socket | undefined {
  if (ws.extensions !== '') return undefined;
  return (ws as unknown as { _socket?: Socket })._socket;
}

const corked = new Set<Socket>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** Writes a pre-built frame, coalescing with other writes to the same socket in this tick. */
export function writeFrame(socket: Socket, frame: Buffer): void {
  if (!corked.has(socket)) {
    socket.cork();
    corked.add(socket);
    if (!flushScheduled) {
      flushScheduled = true;
      // Deliveries parsed from one broker read run in one synchronous pass; a microtask runs
      // right after it, so coalescing adds no timer latency.
      queueMicrotask(flush);
    }
  }
  socket.write(frame);
}
