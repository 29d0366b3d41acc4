// A minimal test WebSocket client that records frames and waits for them explicitly.
import WebSocket from 'ws';

export interface TestSocket {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  send(frame: Record<string, unknown>): void;
  /** Resolves with the first recorded frame (from `from` on) that matches. */
  next(
    match: (f: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a frame with an id and waits for the reply echoing it. */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  events(topic?: string): Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

let nextId = 1;

export function connectWs(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, { headers });
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const w of waiters.splice(0)) w();
    });
  });
  const socket: TestSocket = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
    async next(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = frames.find(match);
        if (found) return found;
        if (Date.now() > deadline || ws.readyState === WebSocket.CLOSED) {
          throw new Error(`no matching frame; got ${JSON.stringify(frames).slice(0, 2000)}`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
      }
    },
    request(frame, timeoutMs) {
      const id = nextId++;
      socket.send({ ...frame, id });
      return socket.next((f) => f.id === id, timeoutMs);
    },
    events: (topic) => frames.filter((f) => f.op === 'event' && (!topic || f.topic === topic)),
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`handshake refused: ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}
