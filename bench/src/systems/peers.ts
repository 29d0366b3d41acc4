// The peers: Socket.IO 4 with @socket.io/redis-adapter, a naive single-process `ws` hub, and
// the same hub fanning out over Redis. Clients speak each wire protocol over plain `ws` (Engine.IO
// v4 framing for Socket.IO), so the load generator costs the same for every system.
import { join } from 'node:path';
import type WebSocket from 'ws';
import { freePort, spawnPinned, waitForPort, type Pinned } from '../procs.js';
import { startRedis, type RedisInstance } from '../redis-instance.js';
import { openSocket, waitForFrame } from './client-socket.js';
import type { Client, ClientOptions, Cluster, RunContext, System } from './system.js';

const SOCKETIO_EVENT = Buffer.from('42["e"');
const WS_EVENT = Buffer.from('{"op":"event"');

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}

interface Started {
  urls: string[];
  servers: Pinned[];
  redis?: RedisInstance;
}

async function startNodes(
  ctx: RunContext,
  name: string,
  script: string,
  nodes: number,
  withRedis: boolean,
): Promise<Started> {
  const started: Started = { urls: [], servers: [] };
  try {
    if (withRedis) started.redis = await startRedis(ctx.serverCpu, ctx.redisServer);
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        PORT: String(port),
        ...(started.redis ? { REDIS_URL: started.redis.url } : {}),
      };
      const server = spawnPinned(
        `${name} node ${i}`,
        ctx.serverCpu,
        process.execPath,
        ['--import', 'tsx', join(ctx.root, 'bench/src/servers', script)],
        env,
        join(ctx.root, 'bench'),
      );
      started.servers.push(server);
      await waitForPort(server, port);
      started.urls.push(`ws://127.0.0.1:${port}`);
    }
    return started;
  } catch (err) {
    await stopNodes(started);
    throw err;
  }
}

async function stopNodes(started: Started): Promise<void> {
  await Promise.all(started.servers.map((s) => s.stop()));
  await started.redis?.stop();
}

/** A cluster whose events are published by one client socket sending `frameOf(topic, body)`. */
function publishingThrough(
  started: Started,
  publisher: WebSocket,
  publishPath: string,
  frameOf: (topic: string, body: string) => string,
): Cluster {
  return {
    nodes: started.urls,
    servers: started.servers,
    redis: started.redis?.process,
    publishPath,
    publish(topic, body) {
      publisher.send(frameOf(topic, body));
    },
    async stop() {
      publisher.terminate();
      await stopNodes(started);
    },
  };
}

// ---- Socket.IO -------------------------------------------------------------------------

/** Completes the Engine.IO open and Socket.IO connect handshake and answers pings from then on. */
async function openSocketIo(node: string, localAddress: string): Promise<WebSocket> {
  let connected!: () => void;
  const connectedOrTimeout = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('no Socket.IO connect within 15000 ms')),
      15_000,
    );
    timer.unref();
    connected = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  // Marked handled now: it is awaited only once the WebSocket handshake is through.
  connectedOrTimeout.catch(() => undefined);
  const socket = await openSocket(
    `${node}/socket.io/?EIO=4&transport=websocket`,
    localAddress,
    (data, ws) => {
      if (data.length === 1 && data[0] === 0x32)
        ws.send('3'); // ping → pong
      else if (data[0] === 0x30)
        ws.send('40'); // Engine.IO open → connect to the main namespace
      else if (data[0] === 0x34 && data[1] === 0x30) connected(); // Socket.IO connect
    },
  );
  try {
    await connectedOrTimeout;
  } catch (err) {
    socket.terminate();
    throw err;
  }
  return socket;
}

export function socketIo(): System {
  let nextAck = 0;
  return {
    name: 'socketio',
    clustered: true,
    async start(ctx, nodes) {
      const started = await startNodes(ctx, 'socket.io', 'socketio-server.ts', nodes, true);
      try {
        const publisher = await openSocketIo(started.urls[0] ?? '', '127.0.0.1');
        return publishingThrough(
          started,
          publisher,
          'a Socket.IO client on node 0 emits `pub`; the server does io.to(room).emit',
          (topic, body) => `42["pub",${JSON.stringify(topic)},${body}]`,
        );
      } catch (err) {
        await stopNodes(started);
        throw err;
      }
    },
    async connect(node: string, client: ClientOptions): Promise<Client> {
      const socket = await openSocketIo(node, client.localAddress);
      socket.on('message', (data: Buffer) => {
        if (startsWith(data, SOCKETIO_EVENT)) client.onEvent(data);
      });
      socket.on('close', (code) => client.onClose(code));
      return {
        async subscribe(topic) {
          const ack = ++nextAck;
          const reply = waitForFrame(socket, `join ack ${ack}`, (f) =>
            startsWith(f, Buffer.from(`43${ack}[`)),
          );
          socket.send(`42${ack}["join",${JSON.stringify(topic)}]`);
          await reply;
        },
        close: () => socket.close(),
      };
    },
  };
}

// ---- raw ws hub ------------------------------------------------------------------------

export function rawWs(options: { redis: boolean }): System {
  return {
    name: options.redis ? 'ws-redis' : 'ws',
    clustered: options.redis,
    async start(ctx, nodes) {
      const started = await startNodes(ctx, this.name, 'raw-ws-server.ts', nodes, options.redis);
      try {
        if (started.redis) {
          const { Redis } = await import('ioredis');
          const redis = new Redis(started.redis.url);
          return {
            nodes: started.urls,
            servers: started.servers,
            redis: started.redis.process,
            publishPath: 'Redis PUBLISH on the topic channel (ioredis)',
            publish(topic, body) {
              void redis.publish(topic, body);
            },
            async stop() {
              redis.disconnect();
              await stopNodes(started);
            },
          } satisfies Cluster;
        }
        const publisher = await openSocket(started.urls[0] ?? '', '127.0.0.1');
        return publishingThrough(
          started,
          publisher,
          'a ws client sends {"op":"pub"} to the hub',
          (topic, body) => `{"op":"pub","topic":${JSON.stringify(topic)},"data":${body}}`,
        );
      } catch (err) {
        await stopNodes(started);
        throw err;
      }
    },
    async connect(node: string, client: ClientOptions): Promise<Client> {
      const socket = await openSocket(node, client.localAddress);
      socket.on('message', (data: Buffer) => {
        if (startsWith(data, WS_EVENT)) client.onEvent(data);
      });
      socket.on('close', (code) => client.onClose(code));
      return {
        async subscribe(topic) {
          const expected = Buffer.from(`{"op":"subd","topic":${JSON.stringify(topic)}}`);
          const reply = waitForFrame(socket, `sub reply for ${topic}`, (f) => f.equals(expected));
          socket.send(JSON.stringify({ op: 'sub', topic }));
          await reply;
        },
        close: () => socket.close(),
      };
    },
  };
}
