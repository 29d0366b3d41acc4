// Node.js entry: the client with the `ws` package as its WebSocket (Node 20 has none built in).
// Kept apart from index.ts so browser bundles never pull in `ws`.
import WebSocket from 'ws';
import { createClient } from './client.js';
import type { ClientOptions, SwitchboardClient, WebSocketConstructor } from './types.js';

export * from './index.js';

/** The `ws` package's WebSocket, typed as the client expects. */
export const NodeWebSocket: WebSocketConstructor = WebSocket;

/** {@link createClient} with `ws` as the default WebSocket implementation. */
export function createNodeClient(options: ClientOptions): SwitchboardClient {
  return createClient({ WebSocket: NodeWebSocket, ...options });
}
