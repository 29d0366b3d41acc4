// A client that goes away while its token is being checked leaves nothing behind in the hub:
// its close is handled before the check ends, so the connection must not be added after it.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';

const ATTEMPTS = 20;

async function hubEmpties(t: TestServer): Promise<number> {
  const deadline = Date.now() + 3000;
  while (t.server.realtime.hub.connectedCount() > 0 && Date.now() < deadline) await sleep(20);
  return t.server.realtime.hub.connectedCount();
}

describe(`a client closing during authentication (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  it('WebSocket: an auth frame followed at once by the close adds no connection', async () => {
    for (let i = 0; i < ATTEMPTS; i++) {
      const token = await t.token(`leaver-ws-${i}`);
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(`${t.wsUrl}/ws`);
        ws.on('open', () => {
          ws.send(JSON.stringify({ op: 'auth', id: 1, token }));
          ws.terminate();
        });
        ws.on('close', () => resolve());
        ws.on('error', () => undefined);
      });
    }
    expect(await hubEmpties(t)).toBe(0);
  });

  it('SSE: a request whose socket closes at once adds no connection', async () => {
    const { port } = new URL(t.url);
    for (let i = 0; i < ATTEMPTS; i++) {
      const token = await t.token(`leaver-sse-${i}`);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.end(
            `GET /api/v1/events/stream?token=${token} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n`,
          );
          socket.destroy();
        });
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });
    }
    expect(await hubEmpties(t)).toBe(0);
  });

  it("the relay's agent stream: a request whose socket closes at once opens no stream", async () => {
    const login = await t.server.app.inject({
      method: 'POST',
      url: '/admin/api/login',
      payload: { password: t.config.ADMIN_PASSWORD },
    });
    expect(login.statusCode, login.body).toBe(200);
    const csrf = login.cookies.find((c) => c.name === 'csrf_token')?.value ?? '';
    const created = await t.server.app.inject({
      method: 'POST',
      url: '/admin/api/accounts',
      headers: {
        cookie: login.cookies.map((c) => `${c.name}=${c.value}`).join('; '),
        'x-csrf-token': csrf,
      },
      payload: { rateLimitPerMinute: 1000 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { relayToken } = created.json<{ relayToken: string }>();
    const { port } = new URL(t.url);
    for (let i = 0; i < ATTEMPTS; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.end(
            `GET /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${relayToken}\r\n\r\n`,
          );
          socket.destroy();
        });
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });
    }
    expect(await hubEmpties(t)).toBe(0);
  });
});
