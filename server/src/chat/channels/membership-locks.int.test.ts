// Membership commands and message commands lock in one order (the channel row, then its seq row,
// then member rows): joins, leaves, adds and removals racing sends that mention everyone, which
// update every member row under the channel's lock, never fail with a deadlock, and the member
// count stays equal to the member rows.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { makeChatUsers, type ApiResponse, type ChatTestUser } from '../test-support/api.js';

const ROUNDS = 6;

describe(`chat membership lock order (${target})`, () => {
  let t: TestServer;
  let owner: ChatTestUser;
  let movers: ChatTestUser[];
  let workspaceId: string;

  beforeAll(async () => {
    t = await startTestServer();
    const users = await makeChatUsers(t.server, ['owner', 'm1', 'm2', 'm3', 'm4']);
    [owner] = users;
    movers = users.slice(1);
    const created = await owner.call('POST', '/api/v1/workspaces', { name: 'Locks' });
    workspaceId = created.body.id;
    for (const user of movers) {
      const invite = await owner.call('POST', `/api/v1/workspaces/${workspaceId}/invites`, {});
      const accepted = await user.call('POST', '/api/v1/invites/accept', {
        code: invite.body.code,
      });
      expect(accepted.status).toBe(200);
    }
  }, 60_000);
  afterAll(() => t?.stop());

  it('runs concurrent joins, leaves, member changes and sends without a deadlock reaching anyone', async () => {
    const created = await owner.call('POST', `/api/v1/workspaces/${workspaceId}/channels`, {
      name: 'busy',
      kind: 'public',
    });
    expect(created.status).toBe(201);
    const channelId = created.body.id as string;
    const path = (suffix: string) => `/api/v1/channels/${channelId}${suffix}`;
    const answers: Array<{ what: string; response: ApiResponse }> = [];
    const record = (what: string) => (response: ApiResponse) => {
      answers.push({ what, response });
    };

    const moverLoop = async (user: ChatTestUser, index: number) => {
      for (let round = 0; round < ROUNDS; round++) {
        if (index % 2 === 0) {
          await user.call('POST', path('/join')).then(record('join'));
          await user
            .call('POST', path('/messages'), { body: `@channel ${round}` })
            .then(record('send'));
          await user.call('POST', path('/leave')).then(record('leave'));
        } else {
          // Added and removed by the owner, so the member rows change under another user's call.
          await owner.call('POST', path('/members'), { userIds: [user.id] }).then(record('add'));
          await owner.call('DELETE', path(`/members/${user.id}`)).then(record('remove'));
        }
      }
    };
    const senderLoop = async () => {
      for (let round = 0; round < ROUNDS * 2; round++) {
        await owner
          .call('POST', path('/messages'), { body: `@here ${round}` })
          .then(record('send'));
      }
    };
    await Promise.all([...movers.map(moverLoop), senderLoop()]);

    const failures = answers.filter(({ response }) => response.status >= 400);
    expect(
      failures.map(
        ({ what, response }) => `${what}: ${response.status} ${JSON.stringify(response.body)}`,
      ),
    ).toEqual([]);
    expect(answers).toHaveLength(movers.length * ROUNDS * 2.5 + ROUNDS * 2);

    const counts = rowsOf<{ member_count: number; rows: number }>(
      await t.server.store.db.execute(sql`
        select c.member_count,
               (select count(*)::int from chat.channel_members m where m.channel_id = c.id) as rows
        from chat.channels c where c.id = ${channelId}`),
    )[0]!;
    expect(Number(counts.member_count)).toBe(Number(counts.rows));
    expect(Number(counts.rows)).toBe(1);
  }, 60_000);
});
