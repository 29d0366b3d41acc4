// Raw `ws` peer: the hub anyone would write in an afternoon. Without REDIS_URL a single-node hub;
// with it, each node subscribes a Redis channel per topic it has local subscribers for and fans
// out what arrives there, the same shape as Switchboard's per-topic mode.
// Env: PORT (required), REDIS_URL (optional).
// Frames in: {"op":"sub","topic":t} → {"op":"subd","topic":t}; {"op":"pub","topic":t,"data":…}.
// Frames out: {"op":"event","topic":t,"data":…}.
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
  console.error('PORT must be a TCP port number');
  process.exit(2);
}

const topics = new Map<string, Set<WebSocket>>();
const redisUrl = process.env.REDIS_URL;
const pub = redisUrl ? new Redis(redisUrl) : undefined;
const sub = pub?.duplicate();

function fanOut(topic: string, data: string): void {
  const sockets = topics.get(topic);
  if (!sockets) return;
  const frame = `{"op":"event","topic":${JSON.stringify(topic)},"data":${data}}`;
  for (const socket of sockets) socket.send(frame);
}

sub?.on('message', (channel: string, message: string) => fanOut(channel, message));

function join(socket: WebSocket, topic: string): Promise<unknown> {
  let sockets = topics.get(topic);
  let ready: Promise<unknown> = Promise.resolve();
  if (!sockets) {
    topics.set(topic, (sockets = new Set()));
    if (sub) ready = sub.subscribe(topic);
  }
  sockets.add(socket);
  return ready;
}

function leave(socket: WebSocket, topic: string): void {
  const sockets = topics.get(topic);
  if (!sockets) return;
  sockets.delete(socket);
  if (sockets.size === 0) {
    topics.delete(topic);
    void sub?.unsubscribe(topic);
  }
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
wss.on('connection', (socket) => {
  const mine = new Set<string>();
  socket.on('message', (raw: Buffer) => {
    let frame: { op?: unknown; topic?: unknown; data?: unknown };
    try {
      frame = JSON.parse(raw.toString('utf8')) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame.topic !== 'string') return;
    const topic = frame.topic;
    if (frame.op === 'sub') {
      mine.add(topic);
      void join(socket, topic).then(() =>
        socket.send(`{"op":"subd","topic":${JSON.stringify(topic)}}`),
      );
    } else if (frame.op === 'pub') {
      const data = JSON.stringify(frame.data ?? null);
      if (pub) void pub.publish(topic, data);
      else fanOut(topic, data);
    }
  });
  socket.on('close', () => {
    for (const topic of mine) leave(socket, topic);
  });
});

const stop = () => {
  wss.close();
  pub?.disconnect();
  sub?.disconnect();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
