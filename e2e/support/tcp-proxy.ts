// A TCP proxy that stands between one process and a shared service, so a test can make that
// process's connections fail without touching the service itself: forward, black-hole (connections
// stay open but nothing gets through, like a network partition) or cut (every connection is
// closed and new ones are closed as soon as they arrive, like a service that is down).
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'blackhole' | 'cut';

export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** `url` (e.g. the service's redis:// URL) with host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** Connections open through the proxy right now (client side). */
  openConnections(): number;
  /** Connections accepted since the proxy started, in every mode. */
  acceptedConnections(): number;
  /**
   * Forwards again. Connections that lost bytes while black-holed are closed first: their
   * protocol state cannot be trusted any more, so their clients must reconnect.
   */
  forward(): void;
  /** Keeps every connection open (and accepts new ones) but drops all bytes both ways. */
  blackHole(): void;
  /** Closes every connection and, until `forward()`, each new one as soon as it is accepted. */
  cut(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Bytes were dropped on this pair: it is closed when forwarding resumes. */
  tainted: boolean;
}

export async function startTcpProxy(options: {
  targetHost?: string;
  targetPort: number;
  host?: string;
}): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const host = options.host ?? '127.0.0.1';
  const pairs = new Set<Pair>();
  let mode: ProxyMode = 'forward';
  let accepted = 0;

  const closePair = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    client.on('error', () => undefined);
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, tainted: mode === 'blackhole' };
    pairs.add(pair);
    client.on('close', () => closePair(pair));
    client.on('data', (chunk) => {
      if (mode === 'forward' && !pair.tainted) pair.upstream?.write(chunk);
      else pair.tainted = true;
    });
    // A black-holed connection never reaches the service: the client waits on a silent socket.
    if (pair.tainted) return;
    const upstream = connect({ host: targetHost, port: options.targetPort });
    pair.upstream = upstream;
    // Bytes the client sends before the upstream connection is up are queued by the socket.
    upstream.on('error', () => undefined);
    upstream.on('close', () => closePair(pair));
    upstream.on('data', (chunk) => {
      if (mode === 'forward' && !pair.tainted) client.write(chunk);
      else pair.tainted = true;
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };

  return {
    port,
    get mode() {
      return mode;
    },
    urlFor(url) {
      const proxied = new URL(url);
      proxied.hostname = host;
      proxied.port = String(port);
      return proxied.toString();
    },
    openConnections: () => pairs.size,
    acceptedConnections: () => accepted,
    forward() {
      for (const pair of [...pairs]) if (pair.tainted) closePair(pair);
      mode = 'forward';
    },
    blackHole() {
      mode = 'blackhole';
      for (const pair of pairs) pair.tainted = true;
    },
    cut() {
      mode = 'cut';
      for (const pair of [...pairs]) closePair(pair);
    },
    async close() {
      mode = 'cut';
      for (const pair of [...pairs]) closePair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
