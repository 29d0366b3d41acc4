import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../observability/index.js';
import { testLogger } from '../test-support/services.js';
import { createHttpApp } from './app.js';
import { AppError } from './errors.js';
import { Readiness } from './readiness.js';
import { DatabaseUnavailableError } from '../store/index.js';

describe('HTTP edge', () => {
  let app: FastifyInstance;
  let readiness: Readiness;
  let databaseUp: boolean;

  beforeEach(async () => {
    databaseUp = true;
    readiness = new Readiness(500);
    readiness.add({
      name: 'database',
      check: () =>
        databaseUp ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED 127.0.0.1:5432')),
    });
    app = createHttpApp({ logger: testLogger, readiness, bodyLimit: 1024, trustProxy: false });
    app.post('/echo', (request) => ({ got: request.body }));
    app.get('/needs-db', () => {
      throw new DatabaseUnavailableError('connection refused');
    });
    app.get('/conflict', () => {
      throw new AppError('conflict', 'Already there');
    });
    app.get('/boom', () => {
      throw new Error('secret internals');
    });
    app.get('/things/:id', (request) => request.params);
    app.get('/stores-nul', () => {
      // What Drizzle throws when PostgreSQL refuses a NUL character: the driver's error as cause.
      const driverError = Object.assign(
        new Error('invalid byte sequence for encoding "UTF8": 0x00'),
        {
          code: '22021',
        },
      );
      throw new Error('Failed query: insert …', { cause: driverError });
    });
    await app.ready();
  });
  afterEach(() => app.close());

  it('answers liveness with plain OK', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('OK');
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/no/such/route?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /no/such/route' },
    });
  });

  it('rejects malformed JSON with 400 invalid_json', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_json');
  });

  it('rejects bodies over the limit with 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ data: 'x'.repeat(2048) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
  });

  it('rejects unsupported content types with 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/x-unknown' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });

  it('renders AppError with its catalogue status', async () => {
    const res = await app.inject({ method: 'GET', url: '/conflict' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: { code: 'conflict', message: 'Already there' } });
  });

  it('maps an unreachable database to 503 with Retry-After', async () => {
    const res = await app.inject({ method: 'GET', url: '/needs-db' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.json().error.code).toBe('database_unavailable');
  });

  it("answers the router's refusals in the error shape", async () => {
    const undecodable = await app.inject({ method: 'GET', url: '/things/%ED%A0%80%FF' });
    expect(undecodable.statusCode).toBe(400);
    expect(undecodable.json().error).toMatchObject({ code: 'invalid_request' });
    const tooLong = await app.inject({ method: 'GET', url: `/things/${'x'.repeat(200)}` });
    expect(tooLong.statusCode).toBe(414);
    expect(tooLong.json().error).toMatchObject({ code: 'invalid_request' });
  });

  it('refuses JSON that escapes half of a surrogate pair or nests too deep, and prototype poisoning', async () => {
    const post = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload,
      });
    const lone = await post('{"a":"x\\ud800"}');
    expect(lone.statusCode).toBe(400);
    expect(lone.json().error).toMatchObject({ code: 'invalid_request', message: /surrogate/ });
    const pair = await post('{"a":"\\ud83d\\ude00"}');
    expect(pair.statusCode).toBe(200);
    expect(pair.json()).toEqual({ got: { a: '😀' } });
    const deep = await post(`${'['.repeat(200)}${']'.repeat(200)}`);
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error).toMatchObject({ code: 'invalid_request', message: /levels deep/ });
    expect((await post('{"__proto__":{"admin":true}}')).statusCode).toBe(400);
    expect((await post('{"constructor":{"prototype":{"admin":true}}}')).statusCode).toBe(400);
  });

  it('answers requests the HTTP parser refuses in the error shape', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(request));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
    const tooLarge = await raw(
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(tooLarge).toMatch(/^HTTP\/1.1 431 /);
    expect(JSON.parse(tooLarge.split('\r\n\r\n')[1]!)).toMatchObject({
      error: { code: 'invalid_request', message: /headers are too large/ },
    });
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1.1 400 /);
    expect(JSON.parse(garbage.split('\r\n\r\n')[1]!)).toMatchObject({
      error: { code: 'invalid_request' },
    });
  });

  it('answers text the database cannot store (NUL) with 400', async () => {
    const res = await app.inject({ method: 'GET', url: '/stores-nul' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_request', message: /NUL/ });
  });

  it('hides internal error details', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('internal_error');
    expect(res.body).not.toContain('secret internals');
  });

  it('echoes a valid x-request-id and generates one otherwise', async () => {
    const kept = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports readiness 503 naming the failing dependency, then 200 once it is back', async () => {
    databaseUp = false;
    for (const url of ['/readyz', '/healthz']) {
      const down = await app.inject({ method: 'GET', url });
      expect(down.statusCode).toBe(503);
      expect(down.json().error.code).toBe('not_ready');
      expect(down.json().error.message).toContain('database: ECONNREFUSED');
      expect(down.json().checks.database.ok).toBe(false);
    }
    databaseUp = true;
    const up = await app.inject({ method: 'GET', url: '/readyz' });
    expect(up.statusCode).toBe(200);
    expect(up.json().checks.database.ok).toBe(true);
  });

  it('reports shutting_down while draining', async () => {
    readiness.startDraining();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('shutting_down');
  });
});

describe('request logs', () => {
  it('never show access tokens in the query, the webhook secret path or a session status path', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger({ level: 'debug', instanceId: 'test', destination });
    const app = createHttpApp({
      logger,
      readiness: new Readiness(500),
      bodyLimit: 1024,
      trustProxy: false,
    });
    app.get('/kakao/webhook/:secret', () => ({ ok: true }));
    app.get('/stream', () => ({ ok: true }));
    app.get('/v1/sessions/:token/status', () => ({ ok: true }));
    await app.inject({ method: 'GET', url: '/kakao/webhook/path-secret-123' });
    await app.inject({ method: 'GET', url: '/v1/sessions/session-secret-789/status' });
    await app.inject({ method: 'GET', url: '/stream?topics=a&token=jwt-secret-456&x=1' });
    await app.close();
    const text = lines.join('');
    expect(text).toContain('"url":"/kakao/webhook/****"');
    expect(text).toContain('"url":"/stream?topics=a&token=****&x=1"');
    expect(text).not.toContain('path-secret-123');
    expect(text).not.toContain('jwt-secret-456');
    expect(text).toContain('"url":"/v1/sessions/****/status"');
    expect(text).not.toContain('session-secret-789');
  });
});
