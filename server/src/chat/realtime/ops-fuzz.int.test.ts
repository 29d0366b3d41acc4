// Seeded fuzzing of chat's WebSocket ops (join, leave, typing, read, send, react) from a real chat
// account: frames made valid with ids that exist, then broken (wrong types, ids that are not ids,
// NUL and lone surrogates, huge bodies, out-of-range seqs). Every frame must get its reply or an
// error frame with a client-side code, never internal_error, and the server must keep serving.
// The seed is printed; FUZZ_SEED=<n> replays a run.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzSeed, prng, type Rng } from '../../test-support/prng.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs, type TestSocket } from '../../test-support/ws-client.js';

const seed = fuzzSeed();
const CONNECTIONS = 4;
const FRAMES_PER_CONNECTION = 120;

interface Ids {
  channels: string[];
  messages: string[];
}

const oddIds = [
  '',
  'x',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  '0197a0a0-0000-7000-8000-000000000000',
  "' or 1=1 --",
  '\u0000',
  '\ud800',
  'x'.repeat(65),
  '__proto__',
];

const oddValues: unknown[] = [null, true, -1, 1.5, 1e308, [], {}, { text: 1 }, ...oddIds];

function idOf(rng: Rng, known: string[]): unknown {
  const roll = rng.int(10);
  if (roll < 6 && known.length > 0) return rng.pick(known);
  if (roll < 8) return crypto.randomUUID();
  return rng.pick(oddIds);
}

function bodyOf(rng: Rng): unknown {
  return rng.pick<unknown>([
    'hello',
    'mentions @fuzz1 and @channel',
    { text: 'seed 002 shape' },
    'a\u0000b',
    '\ud800 lone surrogate',
    'x'.repeat(40_000 + rng.int(100_000)),
    '',
    '   ',
    '```\ncode\n```',
  ]);
}

function frameOf(rng: Rng, ids: Ids): Record<string, unknown> {
  const conversation_id = idOf(rng, ids.channels);
  const frame = rng.pick<Record<string, unknown>>([
    { op: 'join', conversation_id },
    { op: 'leave', conversation_id },
    { op: 'typing', conversation_id },
    {
      op: 'read',
      conversation_id,
      seq: rng.pick([0, 1, rng.int(50), Number.MAX_SAFE_INTEGER, -1, 2 ** 63]),
      ...(rng.next() < 0.3 ? { unread: rng.next() < 0.5 } : {}),
    },
    {
      op: 'send',
      conversation_id,
      body: bodyOf(rng),
      ...(rng.next() < 0.5 ? { temp_id: `t${rng.int(20)}` } : {}),
      ...(rng.next() < 0.2 ? { thread_root_id: idOf(rng, ids.messages) } : {}),
    },
    {
      op: 'react',
      message_id: idOf(rng, ids.messages),
      emoji: rng.pick(['👍', 'thumbsup', '', 'x'.repeat(65), '\u0000', ':+1:']),
      ...(rng.next() < 0.3 ? { remove: true } : {}),
    },
  ]);
  if (rng.next() < 0.3) {
    const keys = Object.keys(frame).filter((k) => k !== 'op');
    if (keys.length > 0) {
      const key = rng.pick(keys);
      if (rng.next() < 0.3) delete frame[key];
      else frame[key] = rng.pick(oddValues);
    }
  }
  return frame;
}

describe(`chat op fuzzing, seed ${seed} (${target})`, () => {
  let t: TestServer;
  const ids: Ids = { channels: [], messages: [] };
  const tokens: string[] = [];

  beforeAll(async () => {
    process.stdout.write(`chat op fuzz seed: ${seed} (replay with FUZZ_SEED=${seed})\n`);
    t = await startTestServer({
      env: { CHAT_RATE_LIMIT_IP_PER_MINUTE: '0', CHAT_RATE_LIMIT_WRITES_PER_MINUTE: '0' },
    });
    const inject = async (
      method: 'GET' | 'POST',
      url: string,
      token: string | undefined,
      payload?: object,
    ) => {
      const response = await t.server.app.inject({
        method,
        url,
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode, response.body).toBeLessThan(300);
      return response.json<Record<string, unknown>>();
    };
    for (let i = 0; i < CONNECTIONS; i++) {
      const signup = await inject('POST', '/api/v1/auth/register', undefined, {
        email: `fuzz${i}@example.com`,
        username: `fuzz${i}`,
        password: 'fuzz-password-1',
      });
      tokens.push(signup.accessToken as string);
    }
    const owner = tokens[0]!;
    const workspace = await inject('POST', '/api/v1/workspaces', owner, { name: 'Fuzz' });
    const invite = await inject(
      'POST',
      `/api/v1/workspaces/${workspace.id as string}/invites`,
      owner,
      {
        maxUses: 10,
      },
    );
    for (const token of tokens.slice(1)) {
      await inject('POST', '/api/v1/invites/accept', token, { code: invite.code });
    }
    const channels = await inject(
      'GET',
      `/api/v1/workspaces/${workspace.id as string}/channels`,
      owner,
    );
    const general = (channels.items as { id: string }[])[0]!.id;
    const secret = await inject(
      'POST',
      `/api/v1/workspaces/${workspace.id as string}/channels`,
      owner,
      {
        name: 'secret',
        kind: 'private',
      },
    );
    ids.channels.push(general, secret.id as string);
    const sent = await inject('POST', `/api/v1/channels/${general}/messages`, owner, {
      body: 'root @fuzz1',
    });
    ids.messages.push(sent.id as string);
  });
  afterAll(() => t?.stop());

  it(
    'answers every frame with its reply or a client error, never internal_error',
    {
      timeout: 120_000,
    },
    async () => {
      const rng = prng(seed);
      const plans = tokens.map(() =>
        Array.from({ length: FRAMES_PER_CONNECTION }, () => frameOf(rng, ids)),
      );
      const failures: string[] = [];
      const codes = new Map<string, number>();
      const sockets: TestSocket[] = [];
      try {
        await Promise.all(
          plans.map(async (frames, i) => {
            const socket = await connectWs(`${t.wsUrl}/ws?token=${tokens[i]!}`);
            sockets.push(socket);
            for (const frame of frames) {
              const reply = await socket.request(frame, 10_000);
              const code = reply.op === 'error' ? String(reply.code) : 'ok';
              codes.set(code, (codes.get(code) ?? 0) + 1);
              if (code === 'internal_error') {
                failures.push(`${JSON.stringify(frame).slice(0, 300)} → ${JSON.stringify(reply)}`);
              }
              // Under the per-connection frame rate.
              await sleep(12);
            }
          }),
        );
      } finally {
        for (const socket of sockets) socket.close();
      }
      const summary = JSON.stringify(Object.fromEntries(codes));
      expect(failures, `seed ${seed}: ${summary}`).toEqual([]);
      // The ids worked: some frames got past validation into the commands and succeeded.
      expect(codes.get('ok') ?? 0, summary).toBeGreaterThan(FRAMES_PER_CONNECTION / 4);

      const after = await connectWs(`${t.wsUrl}/ws?token=${tokens[0]!}`);
      try {
        expect(
          await after.request({ op: 'send', conversation_id: ids.channels[0], body: 'still here' }),
        ).toMatchObject({ op: 'send', success: true });
      } finally {
        after.close();
      }
    },
  );
});
