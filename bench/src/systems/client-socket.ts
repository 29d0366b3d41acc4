// Opening a raw `ws` client connection with a bounded handshake.
import WebSocket from 'ws';

const HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * Opens a connection. `onFrame`, when given, sees every frame from the first one on: a server
 * may speak first, in the same packet as the handshake response.
 */
export function openSocket(
  url: string,
  localAddress: string,
  onFrame?: (frame: Buffer, socket: WebSocket) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      localAddress,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    if (onFrame) socket.on('message', (data: Buffer) => onFrame(data, socket));
    const fail = (err: Error) => {
      socket.removeAllListeners('open');
      reject(err);
    };
    socket.once('error', fail);
    socket.once('unexpected-response', (_req, res) => {
      socket.terminate();
      fail(new Error(`handshake refused: HTTP ${res.statusCode ?? '?'}`));
    });
    socket.once('open', () => {
      socket.off('error', fail);
      // Errors after the handshake end in 'close', which the caller observes.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/**
 * Waits for the first frame `match` accepts (it sees every frame until then), or rejects after
 * `timeoutMs` or when the socket closes.
 */
export function waitForFrame(
  socket: WebSocket,
  what: string,
  match: (frame: Buffer) => boolean,
  timeoutMs = 15_000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
    };
    const onMessage = (data: Buffer) => {
      if (!match(data)) return;
      done();
      resolve(data);
    };
    const onClose = (code: number) => {
      done();
      reject(new Error(`socket closed (${code}) while waiting for ${what}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('message', onMessage);
    socket.on('close', onClose);
  });
}
