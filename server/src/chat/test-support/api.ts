// Test helpers for chat: real accounts made through the API, and terse authenticated calls.
import type { RunningServer } from '../../main.js';

export interface ApiResponse {
  status: number;
  headers: Record<string, string | number | string[] | undefined>;
  // Bodies are checked by value (toMatchObject); a loose type keeps the reads short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface ChatTestUser {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  /** Calls the API as this user. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
}

/** One HTTP call through Fastify's inject (no socket), optionally with an access token. */
export async function callApi(
  server: RunningServer,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const response = await server.app.inject({
    method: method as 'GET',
    url: path,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  let parsed: unknown;
  try {
    parsed = response.body ? JSON.parse(response.body) : undefined;
  } catch {
    parsed = response.body;
  }
  return { status: response.statusCode, headers: response.headers, body: parsed };
}

let counter = 0;

/** Registers a fresh account (unique per run) and returns it with a caller bound to its token. */
export async function makeChatUser(server: RunningServer, name = 'user'): Promise<ChatTestUser> {
  counter += 1;
  const unique = `${name}-${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 5)}`;
  const created = await callApi(server, 'POST', '/api/v1/auth/register', {
    email: `${unique}@example.com`,
    username: unique.slice(0, 32),
    password: 'correct horse battery',
    displayName: name,
  });
  if (created.status !== 201) {
    throw new Error(
      `registering ${unique} failed: ${created.status} ${JSON.stringify(created.body)}`,
    );
  }
  const { user, accessToken, refreshToken } = created.body as {
    user: { id: string; username: string };
    accessToken: string;
    refreshToken: string;
  };
  return {
    id: user.id,
    username: user.username,
    accessToken,
    refreshToken,
    call: (method, path, body, headers) =>
      callApi(server, method, path, body, accessToken, headers),
  };
}

/** Registers one account per name, concurrently, typed as a tuple of the same length. */
export function makeChatUsers<const Names extends readonly string[]>(
  server: RunningServer,
  names: Names,
): Promise<{ [K in keyof Names]: ChatTestUser }> {
  return Promise.all(names.map((name) => makeChatUser(server, name))) as Promise<{
    [K in keyof Names]: ChatTestUser;
  }>;
}
