// (E) team chat, setup: the accounts, the workspace and the channels, made through the REST API
// as real clients make them (argon2 hashing included), spread over the nodes and run
// concurrently, so the setup's time is the server's own.
import { performance } from 'node:perf_hooks';
import { forEachLimited, round } from './harness.js';

/** Sign-ups in flight at once: enough to keep every node's hashing threads busy. */
const REGISTER_CONCURRENCY = 16;
/** Other setup calls in flight at once. */
const CALL_CONCURRENCY = 32;
const PASSWORD = 'bench password, long enough';

export interface ChatLayout {
  users: number;
  channels: number;
}

export interface ChatUser {
  id: string;
  accessToken: string;
}

export interface ChatWorld {
  users: ChatUser[];
  /** Channel ids, by channel index. */
  channelIds: string[];
  workspaceId: string;
  timings: {
    registerSeconds: number;
    registrationsPerSecond: number;
    joinWorkspaceSeconds: number;
    channelsSeconds: number;
  };
}

/** Which channel user `u` is a member of, and the user's slot among its members. */
export const channelOf = (layout: ChatLayout, u: number): number => u % layout.channels;
export const slotOf = (layout: ChatLayout, u: number): number => Math.floor(u / layout.channels);

/** The users of channel `c`, by slot. */
function membersOf(layout: ChatLayout, c: number): number[] {
  const members: number[] = [];
  for (let u = c; u < layout.users; u += layout.channels) members.push(u);
  return members;
}

async function call<T>(
  base: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status >= 300) {
    throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

async function register(base: string, name: string): Promise<ChatUser> {
  const created = await call<{ user: { id: string }; accessToken: string }>(
    base,
    'POST',
    '/api/v1/auth/register',
    { email: `${name}@example.com`, username: name, password: PASSWORD },
  );
  return { id: created.user.id, accessToken: created.accessToken };
}

/**
 * One workspace; `users` accounts, each a member of the workspace (and so of its #general) and
 * of exactly one of `channels` public channels of users/channels members. A setup account makes
 * the workspace and the channels and leaves them again, so each channel has exactly its members.
 */
export async function buildChatWorld(
  httpUrls: readonly string[],
  layout: ChatLayout,
): Promise<ChatWorld> {
  const nodeUrl = (i: number) => httpUrls[i % httpUrls.length]!;
  const base = nodeUrl(0);
  const admin = await register(base, 'bench-admin');
  const workspace = await call<{ id: string }>(
    base,
    'POST',
    '/api/v1/workspaces',
    { name: 'Bench', slug: 'bench' },
    admin.accessToken,
  );
  const invite = await call<{ code: string }>(
    base,
    'POST',
    `/api/v1/workspaces/${workspace.id}/invites`,
    { maxUses: layout.users, expiresInSeconds: 3600 },
    admin.accessToken,
  );

  const users = new Array<ChatUser>(layout.users);
  const registerStarted = performance.now();
  await forEachLimited(layout.users, REGISTER_CONCURRENCY, async (u) => {
    users[u] = await register(nodeUrl(u), `bench-${u}`);
  });
  const registerSeconds = (performance.now() - registerStarted) / 1000;

  const joinStarted = performance.now();
  await forEachLimited(layout.users, CALL_CONCURRENCY, async (u) => {
    await call(
      nodeUrl(u),
      'POST',
      '/api/v1/invites/accept',
      { code: invite.code },
      users[u]!.accessToken,
    );
  });
  const joinWorkspaceSeconds = (performance.now() - joinStarted) / 1000;

  const channelsStarted = performance.now();
  const channelIds = new Array<string>(layout.channels);
  await forEachLimited(layout.channels, CALL_CONCURRENCY, async (c) => {
    const channel = await call<{ id: string }>(
      nodeUrl(c),
      'POST',
      `/api/v1/workspaces/${workspace.id}/channels`,
      { name: `team-${c}`, memberIds: membersOf(layout, c).map((u) => users[u]!.id) },
      admin.accessToken,
    );
    channelIds[c] = channel.id;
    await call(nodeUrl(c), 'POST', `/api/v1/channels/${channel.id}/leave`, {}, admin.accessToken);
  });
  const channelsSeconds = (performance.now() - channelsStarted) / 1000;

  return {
    users,
    channelIds,
    workspaceId: workspace.id,
    timings: {
      registerSeconds: round(registerSeconds, 1),
      registrationsPerSecond: round(layout.users / registerSeconds, 1),
      joinWorkspaceSeconds: round(joinWorkspaceSeconds, 1),
      channelsSeconds: round(channelsSeconds, 1),
    },
  };
}
