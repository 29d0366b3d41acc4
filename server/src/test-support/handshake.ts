// Opens a WebSocket and reports either the open socket or the HTTP refusal (status and body).
import WebSocket from 'ws';

export type HandshakeResult =
  | { ok: true; ws: WebSocket }
  | { ok: false; status: number; body: { error?: { code?: string; message?: string } } };

export function handshake(
  url: string,
  headers: Record<string, string> = {},
  options: { perMessageDeflate?: boolean } = {},
): Promise<HandshakeResult> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: options.perMessageDeflate ?? false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ok: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        ws.terminate();
        let body = {};
        try {
          body = JSON.parse(text) as object;
        } catch {
          // A refusal without a JSON body fails the caller's assertions on `body`.
        }
        resolve({ ok: false, status: res.statusCode ?? 0, body });
      });
    });
    ws.on('error', reject);
  });
}

/** Waits until the socket is closed and returns its close code and reason. */
export function closedOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}
