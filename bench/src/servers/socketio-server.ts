// Socket.IO 4 peer: one node of a cluster joined by @socket.io/redis-adapter (REDIS_URL), or a
// single node without it. Clients `join` rooms and `pub` events that every room member receives.
// Env: PORT (required), REDIS_URL (optional).
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
  console.error('PORT must be a TCP port number');
  process.exit(2);
}

const http = createServer();
const io = new Server(http, { serveClient: false, transports: ['websocket'] });

const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}

io.on('connection', (socket) => {
  socket.on('join', (room: unknown, ack: unknown) => {
    if (typeof room !== 'string') return;
    void socket.join(room);
    if (typeof ack === 'function') (ack as (ok: boolean) => void)(true);
  });
  socket.on('pub', (room: unknown, payload: unknown) => {
    if (typeof room !== 'string') return;
    io.to(room).emit('e', payload);
  });
});

http.listen(port, '127.0.0.1');
const stop = () => {
  void io.close();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
