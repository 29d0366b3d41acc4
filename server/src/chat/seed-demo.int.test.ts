// `switchboard seed-demo`'s work: a usable demo workspace made through the chat commands, and
// nothing duplicated when it runs again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from './test-support/api.js';
import { DEMO_PASSWORD, seedDemo } from './seed-demo.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';

describe(`chat seed-demo (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  it('seeds people, channels, a DM, a thread, reactions and a pin, once', async () => {
    const first = await seedDemo(t.server.chat.context);
    expect(first.users.every((u) => u.created)).toBe(true);
    expect(first.messagesCreated).toBe(8);

    const login = await callApi(t.server, 'POST', '/api/v1/auth/login', {
      login: 'demo-ada',
      password: DEMO_PASSWORD,
    });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;
    const sessions = await callApi(t.server, 'GET', '/api/v1/session/list', undefined, token);
    const kinds = sessions.body.items.map((s: { kind: string; name: string | null }) =>
      s.kind === 'dm' ? 'dm' : s.name,
    );
    expect(kinds.sort()).toEqual(['dm', 'engineering', 'general', 'leads']);

    const search = await callApi(
      t.server,
      'GET',
      '/api/v1/messages/search?q=has:thread',
      undefined,
      token,
    );
    expect(search.body.items).toHaveLength(3);
    const welcome = await callApi(
      t.server,
      'GET',
      '/api/v1/messages/search?q=welcome has:pin',
      undefined,
      token,
    );
    expect(welcome.body.items[0].message).toMatchObject({
      pinned: true,
      mentions: { channel: true },
      reactions: [
        { emoji: '🎉', count: 2 },
        { emoji: ':wave:', count: 1 },
      ],
    });

    const second = await seedDemo(t.server.chat.context);
    expect(second.users.some((u) => u.created)).toBe(false);
    expect(second.messagesCreated).toBe(0);
    expect(second.workspace.id).toBe(first.workspace.id);
    const again = await callApi(t.server, 'GET', '/api/v1/session/list', undefined, token);
    expect(again.body.items).toHaveLength(4);
    const thread = await callApi(
      t.server,
      'GET',
      '/api/v1/messages/search?q=has:thread',
      undefined,
      token,
    );
    expect(thread.body.items).toHaveLength(3);
  });
});
