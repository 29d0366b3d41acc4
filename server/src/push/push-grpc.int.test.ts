// The gRPC PushService end to end: a @grpc/grpc-js client loading the committed push.proto calls
// the server, and WebSocket clients receive what it sent; failures carry the right status codes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type Client,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../broker/index.js';
import { Hub } from '../realtime/index.js';
import {
  freePort,
  track,
  waitFor,
  within,
  type RunningProcess,
} from '../test-support/processes.js';
import { fuzzSeed, prng } from '../test-support/prng.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { makeTestStore, target, testLogger } from '../test-support/services.js';
import { connectWs, type TestSocket } from '../test-support/ws-client.js';
import { startGrpcServer } from './grpc/grpc-server.js';
import { ApiKeyVerifier, createApiKey, pushProtoPath } from './index.js';

// Loaded the way another team's service would: snake_case fields, 64-bit numbers as strings.
const PushService = (
  loadPackageDefinition(
    loadSync(pushProtoPath, { keepCase: true, longs: String, defaults: true }),
  ) as unknown as { switchboard: { push: { v1: { PushService: ServiceClientConstructor } } } }
).switchboard.push.v1.PushService;

type Unary = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response: Record<string, unknown>) => void,
) => void;

function grpcClient(port: number) {
  const client = new PushService(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
  ) as unknown as Client & Record<'Publish' | 'Push' | 'Broadcast', Unary>;
  const call = (
    method: 'Publish' | 'Push' | 'Broadcast',
    request: unknown,
    apiKey?: string,
  ): Promise<Record<string, unknown>> => {
    const metadata = new Metadata();
    if (apiKey) metadata.set('authorization', `Bearer ${apiKey}`);
    return new Promise((resolve, reject) => {
      client[method](request, metadata, { deadline: Date.now() + 15_000 }, (err, response) =>
        err ? reject(err) : resolve(response),
      );
    });
  };
  return { call, close: () => client.close() };
}

/** Resolves with the ServiceError the call failed with. */
async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('the call succeeded');
}

describe(`gRPC PushService (${target})`, () => {
  let t: TestServer;
  let key: string;
  let grpc: ReturnType<typeof grpcClient>;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestServer({ env: { BODY_LIMIT_BYTES: '65536' } });
    key = (await t.server.push.createApiKey({ name: 'resonance' })).key;
    expect(t.server.push.grpcPort).toBeGreaterThan(0);
    grpc = grpcClient(t.server.push.grpcPort!);
  });
  afterAll(async () => {
    grpc?.close();
    for (const socket of sockets) socket.close();
    await t?.stop();
  });

  async function connectUser(userId: string, claims: Record<string, unknown> = {}) {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${await t.token(userId, claims)}`);
    sockets.push(socket);
    await socket.request({ op: 'ping' });
    return socket;
  }

  it('Publish reaches topic subscribers with the fields of the JSON payload', async () => {
    const socket = await connectUser('g-reader', { topics: ['orders.*'] });
    await socket.request({ op: 'subscribe', topics: ['orders.eu'] });
    const response = await grpc.call(
      'Publish',
      {
        topic: 'orders.eu',
        event: { type: 'order.shipped', json: '{"data":{"id":"A-17","lines":[1,2]},"n":1.5}' },
      },
      key,
    );
    expect(response.topic).toBe('orders.eu');
    const seq = Number(response.seq);
    expect(seq).toBeGreaterThan(0);
    const event = await socket.next((f) => f.topic === 'orders.eu');
    expect(event).toEqual({
      op: 'event',
      topic: 'orders.eu',
      seq,
      type: 'order.shipped',
      data: { id: 'A-17', lines: [1, 2] },
      n: 1.5,
    });
  });

  it('Push delivers to each listed user once and counts distinct users', async () => {
    const [a, b] = await Promise.all([connectUser('g-a'), connectUser('g-b')]);
    const response = await grpc.call(
      'Push',
      { user_ids: ['g-a', 'g-b', 'g-a', 'g-offline'], event: { type: 'email.new', json: '' } },
      key,
    );
    expect(response).toEqual({ delivered: 3 });
    for (const [socket, user] of [
      [a, 'g-a'],
      [b, 'g-b'],
    ] as const) {
      expect(await socket.next((f) => f.type === 'email.new')).toMatchObject({
        topic: `user.${user}`,
        type: 'email.new',
      });
    }
    await t.server.realtime.hub.broadcast({ type: 'marker' });
    await a.next((f) => f.type === 'marker');
    expect(a.events().filter((f) => f.type === 'email.new')).toHaveLength(1);
  });

  it('Broadcast reaches every connection', async () => {
    const socket = await connectUser('g-cast');
    const response = await grpc.call('Broadcast', { event: { type: 'notice.posted' } }, key);
    const seq = Number(response.seq);
    expect(await socket.next((f) => f.type === 'notice.posted')).toEqual({
      op: 'event',
      topic: 'broadcast',
      seq,
      type: 'notice.posted',
    });
  });

  it('answers UNAUTHENTICATED without a key, with a bad key and with a revoked key', async () => {
    const request = { event: { type: 'x' } };
    const missing = await failure(grpc.call('Broadcast', request));
    expect(missing.code).toBe(status.UNAUTHENTICATED);
    expect(missing.metadata.get('switchboard-error-code')).toEqual(['unauthorized']);
    expect((await failure(grpc.call('Broadcast', request, 'sbk_nope'))).code).toBe(
      status.UNAUTHENTICATED,
    );
    const doomed = await t.server.push.createApiKey({ name: 'doomed' });
    await grpc.call('Broadcast', request, doomed.key);
    await t.server.push.revokeApiKey(doomed.id);
    const revoked = await failure(grpc.call('Broadcast', request, doomed.key));
    expect(revoked.code).toBe(status.UNAUTHENTICATED);
    expect(revoked.details).toBe('The API key has been revoked.');
  });

  it('answers PERMISSION_DENIED for a key without the scope', async () => {
    const pushOnly = await t.server.push.createApiKey({ name: 'p', scopes: ['push'] });
    const denied = await failure(grpc.call('Broadcast', { event: { type: 'x' } }, pushOnly.key));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toBe('The API key lacks the `broadcast` scope.');
    await grpc.call('Push', { user_ids: ['u'], event: { type: 'x' } }, pushOnly.key);
  });

  it.each([
    ['a bad topic', 'Publish', { topic: 'no spaces', event: { type: 'x' } }, /^topic: /],
    ['a missing event', 'Publish', { topic: 'a' }, /^event: /],
    ['an empty type', 'Broadcast', { event: { type: '' } }, /^event\.type: /],
    ['JSON that is not an object', 'Broadcast', { event: { type: 'x', json: '[1]' } }, /object/],
    ['JSON that does not parse', 'Broadcast', { event: { type: 'x', json: '{' } }, /valid JSON/],
    ['a type inside the JSON', 'Broadcast', { event: { type: 'x', json: '{"type":"y"}' } }, /type/],
    ['a reserved field', 'Broadcast', { event: { type: 'x', json: '{"seq":1}' } }, /^event\.seq/],
    ['no users', 'Push', { user_ids: [], event: { type: 'x' } }, /^userIds: /],
    [
      'too many users',
      'Push',
      { user_ids: Array.from({ length: 10_001 }, (_, i) => `u${i}`), event: { type: 'x' } },
      /^userIds: /,
    ],
  ] as const)('answers INVALID_ARGUMENT for %s', async (_name, method, request, message) => {
    const err = await failure(grpc.call(method, request, key));
    expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(message);
    expect(err.metadata.get('switchboard-error-code')).toEqual(['invalid_request']);
  });

  it('answers random and broken requests with a status, never INTERNAL or UNKNOWN', async () => {
    const seed = fuzzSeed();
    const rng = prng(seed);
    const texts = [
      '',
      'durable.orders',
      'orders.eu',
      'x'.repeat(300),
      '\u0000',
      '\ud800',
      '한국어',
      '*',
      'a b',
      'user.',
      'broadcast',
    ];
    const jsons = [
      '',
      '{}',
      '{"data":{"a":1}}',
      '{"data":"\\u0000"}',
      '{"data":"\\ud800"}',
      '{"type":"x"}',
      '[1]',
      'null',
      '{',
      `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
      JSON.stringify({ data: 'y'.repeat(40_000) }),
    ];
    const event = () =>
      rng.next() < 0.1 ? null : { type: rng.pick(texts), json: rng.pick(jsons) };
    const problems: string[] = [];
    for (let i = 0; i < 120; i++) {
      const method = rng.pick(['Publish', 'Push', 'Broadcast'] as const);
      const request =
        method === 'Publish'
          ? { topic: rng.pick(texts), event: event() }
          : method === 'Push'
            ? {
                user_ids: Array.from({ length: rng.int(4) }, () => rng.pick(texts)),
                event: event(),
              }
            : { event: event() };
      try {
        await grpc.call(method, request, key);
      } catch (err) {
        const { code, details } = err as ServiceError;
        if (code === status.INTERNAL || code === status.UNKNOWN) {
          problems.push(`${method} ${JSON.stringify(request).slice(0, 200)} → ${code} ${details}`);
        }
      }
    }
    expect(problems, `seed ${seed} (FUZZ_SEED replays it)`).toEqual([]);
  });

  it('answers RESOURCE_EXHAUSTED for a message over the size limit', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(3 * 1024 * 1024) });
    const err = await failure(grpc.call('Broadcast', { event: { type: 'x', json: big } }, key));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
  });
});

describe(`gRPC PushService metrics (${target})`, () => {
  it('reports every call with its status name, and pushes with their outcome', async () => {
    const testStore = await makeTestStore();
    const hub = new Hub({
      broker: createMemoryBroker(),
      logger: testLogger,
      history: { maxLength: 10, ttlSeconds: 60 },
    });
    const reported: string[] = [];
    const server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      hub,
      verifier: new ApiKeyVerifier({ db: testStore.store.db, logger: testLogger }),
      logger: testLogger,
      maxMessageBytes: 1024 * 1024,
      metrics: {
        startPush: (api) => (result) => reported.push(`push ${api} failed=${result.failed ?? 0}`),
        startGrpc: (method) => (code) => reported.push(`${method} ${code}`),
      },
    });
    const client = grpcClient(server.port);
    try {
      const { key } = await createApiKey(testStore.store.db, { name: 'metered' });
      await client.call('Push', { user_ids: ['a', 'b'], event: { type: 'x' } }, key);
      await failure(client.call('Publish', { topic: 'bad topic', event: { type: 'x' } }, key));
      await failure(client.call('Broadcast', { event: { type: 'x' } }));
      expect(reported).toEqual([
        'push grpc failed=0',
        '/switchboard.push.v1.PushService/Push OK',
        '/switchboard.push.v1.PushService/Publish INVALID_ARGUMENT',
        '/switchboard.push.v1.PushService/Broadcast UNAUTHENTICATED',
      ]);
    } finally {
      client.close();
      await server.close(1000);
      await testStore.cleanup();
    }
  });
});

describe(`gRPC PushService at shutdown (${target})`, () => {
  it('stops promptly with a client still connected, which then gets UNAVAILABLE', async () => {
    const t = await startTestServer();
    const client = grpcClient(t.server.push.grpcPort!);
    try {
      const { key } = await t.server.push.createApiKey({ name: 'shutdown' });
      await client.call('Broadcast', { event: { type: 'x' } }, key);
      // The idle HTTP/2 connection from the call above must not hold the shutdown.
      await within('server stop', 15_000, t.stop());
      const err = await failure(client.call('Broadcast', { event: { type: 'x' } }, key));
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });
});

const redisServer = '/usr/bin/redis-server';
const noRedisServer = existsSync(redisServer)
  ? undefined
  : `needs ${redisServer} to run a private Redis it can stop`;

describe.skipIf(noRedisServer)(
  `publish API while the broker is down (${target}${noRedisServer ? `; skipped: ${noRedisServer}` : ''})`,
  () => {
    let redis: RunningProcess;
    let t: TestServer;
    let key: string;
    let grpc: ReturnType<typeof grpcClient>;

    beforeAll(async () => {
      const port = await freePort();
      redis = track(
        spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      await waitFor('the private redis-server to accept connections', () => pingable(port), {
        timeoutMs: 15_000,
      });
      t = await startTestServer({
        env: { REDIS_URL: `redis://127.0.0.1:${port}`, SHUTDOWN_TIMEOUT_SECONDS: '5' },
      });
      key = (await t.server.push.createApiKey({ name: 'outage' })).key;
      grpc = grpcClient(t.server.push.grpcPort!);
    });
    afterAll(async () => {
      grpc?.close();
      await t?.stop();
      await redis?.kill();
    });

    it('answers 503 broker_unavailable over HTTP and UNAVAILABLE over gRPC', async () => {
      const publish = () =>
        t.server.app.inject({
          method: 'POST',
          url: '/api/v1/publish',
          headers: { authorization: `Bearer ${key}` },
          payload: { topic: 'a', event: { type: 'x' } },
        });
      expect((await publish()).statusCode).toBe(200);
      await redis.kill();
      const refused = await waitFor('publish to fail with 503', async () => {
        const response = await publish();
        return response.statusCode === 503 ? response : undefined;
      });
      expect(refused.json()).toMatchObject({ error: { code: 'broker_unavailable' } });
      expect(refused.headers['retry-after']).toBe('2');
      const err = await failure(grpc.call('Broadcast', { event: { type: 'x' } }, key));
      expect(err.code).toBe(status.UNAVAILABLE);
      expect(err.metadata.get('switchboard-error-code')).toEqual(['broker_unavailable']);
    });
  },
);

/** True once something at `port` answers a Redis PING with PONG. */
function pingable(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('utf8').startsWith('+PONG') ? true : undefined);
    });
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(undefined));
  });
}
