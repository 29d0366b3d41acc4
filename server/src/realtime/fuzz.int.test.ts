// Seeded fuzzing of the WebSocket gateway: many connections send random bytes, mutated and
// truncated frames, wrong types, deep nesting, huge strings, binary and oversized frames and
// floods. Afterwards the server must be healthy and serving, with bounded memory and no internal
// errors. The seed is printed; FUZZ_SEED=<n> replays a run.
import { closeCodes, MAX_FRAME_BYTES } from '@switchboard/protocol';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { fuzzSeed, prng, type Rng } from '../test-support/prng.js';
import { target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';

const seed = fuzzSeed();
const CONNECTIONS = 24;
const FRAMES_PER_CONNECTION = 60;

const weird: unknown[] = [
  null,
  true,
  -1,
  1e308,
  0.5,
  '',
  'x'.repeat(70),
  [],
  {},
  [null],
  { $ne: 1 },
  '__proto__',
  '\u0000\ud800',
  Number.MAX_SAFE_INTEGER + 2,
];

function validFrame(rng: Rng, token: string, userId: string): Record<string, unknown> {
  const id = rng.int(1000);
  return rng.pick<Record<string, unknown>>([
    { op: 'ping', id },
    { op: 'subscribe', id, topics: ['broadcast'] },
    {
      op: 'subscribe',
      id,
      topics: [`user.${userId}`],
      positions: { [`user.${userId}`]: rng.int(50) },
    },
    { op: 'unsubscribe', id, topics: ['broadcast'] },
    { op: 'resume', id, positions: { broadcast: rng.int(100), [`user.${userId}`]: 0 } },
    { op: 'auth', id, token },
    { op: 'presence.query', id, userIds: [userId, 'nobody'] },
  ]);
}

function deep(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** One hostile frame: text (string) or binary (Buffer). */
function hostileFrame(rng: Rng, token: string, userId: string): string | Buffer {
  const base = JSON.stringify(validFrame(rng, token, userId));
  switch (rng.int(12)) {
    case 0:
      return rng.bytes(1 + rng.int(512)); // binary garbage
    case 1:
      return rng.bytes(1 + rng.int(64)).toString('latin1'); // text garbage
    case 2:
      return base.slice(0, rng.int(base.length)); // truncated
    case 3: {
      const at = rng.int(base.length);
      return base.slice(0, at) + String.fromCharCode(rng.int(0x3000)) + base.slice(at + 1);
    }
    case 4: {
      const frame = validFrame(rng, token, userId);
      const keys = Object.keys(frame);
      frame[rng.pick(keys)] = rng.pick(weird); // wrong type
      return JSON.stringify(frame);
    }
    case 5:
      return `{"op":"subscribe","id":1,"topics":${deep(2000 + rng.int(8000), '[', ']')}}`;
    case 6:
      return `{"op":"ping","x":${deep(2000 + rng.int(8000), '{"a":', '}').replace(/}$/, '1}')}`;
    case 7:
      return JSON.stringify({
        op: 'subscribe',
        id: 2,
        topics: ['t'.repeat(200_000 + rng.int(300_000))],
      });
    case 8:
      return JSON.stringify({
        op: rng.pick(['x'.repeat(65), '', 'toString', '__proto__', 'event']),
      });
    case 9:
      return JSON.stringify(rng.pick(weird));
    case 10:
      return JSON.stringify({
        ...validFrame(rng, token, userId),
        extra: rng.bytes(64).toString('base64'),
      });
    default:
      return base;
  }
}

interface Outcome {
  close: { code: number; reason: string };
  internalErrors: number;
  /** Error frames (invalid_frame, unknown_op, forbidden, …) the server answered with. */
  errorReplies: number;
}

function run(url: string, script: (ws: WebSocket) => void): Promise<Outcome> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  let internalErrors = 0;
  let errorReplies = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = (data as Buffer).toString('utf8');
    if (text.includes('"internal_error"')) internalErrors += 1;
    if (text.startsWith('{"op":"error"')) errorReplies += 1;
  });
  ws.on('error', () => undefined); // a refused or reset socket ends in 'close' all the same
  ws.on('open', () => script(ws));
  return new Promise((resolve) => {
    ws.on('close', (code, reason) =>
      resolve({ close: { code, reason: reason.toString() }, internalErrors, errorReplies }),
    );
  });
}

describe(`gateway fuzzing, seed ${seed} (${target})`, () => {
  let t: TestServer;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  beforeAll(async () => {
    process.stdout.write(`fuzz seed: ${seed} (replay with FUZZ_SEED=${seed})\n`);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    t = await startTestServer({ env: { GRPC_PORT: '0' } });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    await t?.stop();
  });

  it('survives hostile clients and keeps serving', { timeout: 60_000 }, async () => {
    const rng = prng(seed);
    const heapBefore = process.memoryUsage().heapUsed;
    const runs: Array<Promise<Outcome & { kind: string }>> = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const kind =
        i === 0
          ? 'oversize'
          : i === 1
            ? 'flood'
            : rng.pick(['mutate', 'mutate', 'mutate', 'quiet']);
      const userId = `fuzz${i}`;
      const token = await t.token(userId);
      const frames = Array.from({ length: FRAMES_PER_CONNECTION }, () =>
        hostileFrame(rng, token, userId),
      );
      const withToken = rng.next() < 0.7 || kind !== 'mutate';
      const url = `${t.wsUrl}/ws${withToken ? `?token=${token}` : ''}`;
      runs.push(
        run(url, (ws) => {
          if (kind === 'oversize') {
            ws.send(Buffer.alloc(MAX_FRAME_BYTES + 64 * 1024, 0x61), { binary: false });
            return;
          }
          if (kind === 'flood') {
            for (let n = 0; n < 1000; n++) ws.send('{"op":"ping"}');
            return;
          }
          if (kind === 'quiet') {
            ws.send(JSON.stringify({ op: 'ping', id: 1 }));
            setTimeout(() => ws.close(1000), 50 + rng.int(200));
            return;
          }
          for (const frame of frames) {
            if (ws.readyState !== WebSocket.OPEN) break;
            ws.send(frame, { binary: Buffer.isBuffer(frame) });
          }
          // Whatever is still open after its burst is closed by the client.
          setTimeout(() => ws.close(1000), 1000);
        }).then((outcome) => ({ ...outcome, kind })),
      );
    }
    const outcomes = await Promise.all(runs);

    const byKind = (kind: string) => outcomes.filter((o) => o.kind === kind);
    expect(byKind('oversize')[0]!.close.code).toBe(closeCodes.message_too_big.code);
    expect(byKind('flood')[0]!.close.code).toBe(closeCodes.rate_limited.code);
    const expected = new Set<number>([
      1000,
      1005,
      1007, // invalid UTF-8 in a text frame
      closeCodes.message_too_big.code,
      closeCodes.unauthorized.code,
      closeCodes.invalid_frame.code,
      closeCodes.rate_limited.code,
    ]);
    for (const o of outcomes) {
      expect(
        expected.has(o.close.code),
        `${o.kind} closed with ${o.close.code} ${o.close.reason}`,
      ).toBe(true);
      expect(o.internalErrors, `${o.kind} got internal_error frames`).toBe(0);
    }
    expect(unhandled).toEqual([]);
    // The hostile frames reached the frame handler rather than all being cut off early.
    expect(outcomes.reduce((n, o) => n + o.errorReplies, 0)).toBeGreaterThan(CONNECTIONS);

    // Every connection is gone from the hub.
    const deadline = Date.now() + 5000;
    while (t.server.realtime.hub.connectedCount() > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(t.server.realtime.hub.connectedCount()).toBe(0);

    // Healthy and serving: liveness, and a fresh client authenticates, subscribes and receives.
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    const fresh = await connectWs(`${t.wsUrl}/ws`);
    expect(await fresh.request({ op: 'auth', token: await t.token('after-fuzz') })).toMatchObject({
      success: true,
    });
    expect(await fresh.request({ op: 'subscribe', topics: ['broadcast'] })).toMatchObject({
      success: true,
    });
    await t.server.realtime.hub.broadcast({ type: 'fuzz.survived' });
    expect(await fresh.next((f) => f.op === 'event')).toMatchObject({ type: 'fuzz.survived' });
    fresh.close();

    // Nothing of the hostile traffic is retained (the frames themselves were up to ~1 MiB each).
    const heapAfter = process.memoryUsage().heapUsed;
    expect(heapAfter - heapBefore).toBeLessThan(256 * 1024 * 1024);
  });
  it('answers hostile handshakes with an error response or a working socket', async () => {
    const rng = prng(seed + 1);
    const valid = await t.token('handshaker');
    const tokens = [
      valid,
      '',
      'x',
      `${valid}x`,
      valid.split('.').slice(0, 2).join('.') + '.',
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
      'a'.repeat(9000),
      '%ED%A0%80',
      '..%2F..%2F',
    ];
    const problems: string[] = [];
    for (let i = 0; i < 60; i++) {
      const token = rng.pick(tokens);
      const query = rng.pick([
        `?token=${encodeURIComponent(token)}`,
        `?token=${token}&token=${valid}`,
        `?token=${token}&topics=${'t'.repeat(rng.int(3000))}`,
        '?%ZZ=1',
        '',
      ]);
      const headers = rng.pick<Record<string, string>>([
        {},
        { authorization: `Bearer ${token}` },
        { authorization: `Basic ${token}` },
        { authorization: 'Bearer' },
        { origin: 'https://evil.example' },
        { 'x-forwarded-for': '999.1.1.1, ::1' },
      ]);
      const path = rng.pick(['/ws', '/api/v1/ws', '/ws/', '//ws']);
      const outcome = await new Promise<string>((resolve) => {
        const protocols = rng.next() < 0.15 ? ['x', 'switchboard.v1'] : [];
        const ws = new WebSocket(`${t.wsUrl}${path}${query}`, protocols, { headers });
        ws.on('open', () => {
          ws.close(1000);
          resolve('open');
        });
        ws.on('unexpected-response', (_request, response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            let shaped = false;
            try {
              const parsed = JSON.parse(body) as { error?: { code?: unknown } };
              shaped = typeof parsed.error?.code === 'string';
            } catch {
              shaped = false;
            }
            resolve(
              status >= 500 || !shaped ? `status ${status}: ${body.slice(0, 200)}` : 'refused',
            );
          });
        });
        ws.on('error', (err) => resolve(`error ${err.message}`));
      });
      if (outcome !== 'open' && outcome !== 'refused') {
        problems.push(`${path}${query.slice(0, 80)} ${JSON.stringify(headers)} → ${outcome}`);
      }
    }
    expect(problems, `seed ${seed}`).toEqual([]);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });
});
