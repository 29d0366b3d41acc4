// What the relay's end-to-end tests share: relay servers that accept the Kakao stand-in's
// callback URLs, agent accounts, a code for a conversation, and the state of inbound messages.
import { createHash } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { loadConfig } from '../../server/src/config/index.js';
import type { RelayContext } from '../../server/src/relay/index.js';
import { issuePairingCode } from '../../server/src/relay/pairing/index.js';
import { accounts, inboundMessages } from '../../server/src/relay/schema.js';
import { hashToken, newToken } from '../../server/src/relay/tokens.js';
import { startServer, type RunningServer } from '../../server/src/main.js';
import { startTestServer, type TestServer } from '../../server/src/test-support/server.js';
import { waitFor } from '../../server/src/test-support/processes.js';
import { makeTempDir, testLogger } from '../../server/src/test-support/services.js';
import type { FakeKakao } from '../../server/src/relay/test-support/fake-kakao.js';

export const ADMIN_PASSWORD = 'relay-e2e-admin-password';

/** Server configuration every relay end-to-end test runs with. */
export const RELAY_TEST_ENV: Record<string, string> = {
  RELAY_CALLBACK_INSECURE_HOSTS: '127.0.0.1',
  ADMIN_PASSWORD,
};

/** The exact chat replies of the reference (Gen A wording). */
export const REPLIES = {
  paired: '✅ OpenClaw에 연결되었습니다!\n\n이제 자유롭게 대화를 시작하세요.',
  unpaired: '연결이 해제되었습니다.\n\n다시 연결하려면 /pair <코드>를 사용하세요.',
  statusPairedPrefix: '✅ 연결됨\n\n',
  notConnectedPrefix: 'OpenClaw에 연결되지 않았습니다.',
} as const;

export function startRelayServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ env: { ...RELAY_TEST_ENV, ...env } });
}

/**
 * One more in-process instance on an existing database and Redis (a second relay node), as
 * `switchboard serve` would run it with those URLs.
 */
export async function startRelayNode(
  databaseUrl: string,
  redisUrl: string,
  name: string,
): Promise<{ server: RunningServer; stop(): Promise<void> }> {
  const dir = makeTempDir(`sb-relay-${name}-`);
  const { config } = loadConfig({
    env: {
      HOST: '127.0.0.1',
      PORT: '0',
      GRPC_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      INSTANCE_ID: name,
      DATA_DIR: dir.path,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      // The nodes of one cluster count together, apart from every other test's.
      RATE_LIMIT_KEY_PREFIX: `sbtest:${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 16)}:rl:`,
      ...RELAY_TEST_ENV,
    },
    cwd: dir.path,
    secrets: 'persist',
  });
  const server = await startServer({ config, logger: testLogger });
  return {
    server,
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}

/** Routes of `list` (`METHOD /path`) that the server does not have. */
export function missingRoutes(server: RunningServer, list: readonly string[]): string[] {
  return list.filter((entry) => {
    const [method, url] = entry.split(' ');
    return !server.app.hasRoute({ method: method as 'GET', url: url! });
  });
}

export interface TestAccount {
  id: string;
  relayToken: string;
}

/**
 * An agent account: through the admin API when the server has it (sign-in, CSRF cookie), else
 * written straight to the table as the admin API would.
 */
export async function createAccount(
  server: RunningServer,
  relay: RelayContext,
): Promise<TestAccount> {
  if (missingRoutes(server, ['POST /admin/api/login', 'POST /admin/api/accounts']).length === 0) {
    const login = await fetch(`${server.url}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });
    if (login.status !== 200) throw new Error(`admin login answered ${login.status}`);
    const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]!);
    const csrf = cookies.find((c) => c.startsWith('csrf_token='))?.slice('csrf_token='.length);
    const created = await fetch(`${server.url}/admin/api/accounts`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: cookies.join('; '),
        ...(csrf ? { 'x-csrf-token': csrf } : {}),
      },
      body: JSON.stringify({ rateLimitPerMinute: 600 }),
    });
    const body = (await created.json()) as { id?: string; relayToken?: string };
    if (created.status !== 201 || !body.id || !body.relayToken) {
      throw new Error(`account creation answered ${created.status}: ${JSON.stringify(body)}`);
    }
    return { id: body.id, relayToken: body.relayToken };
  }
  const relayToken = newToken();
  const [row] = await relay.db
    .insert(accounts)
    .values({ relayTokenHash: hashToken(relayToken), rateLimitPerMinute: 600 })
    .returning({ id: accounts.id });
  return { id: row!.id, relayToken };
}

/** Pairs a conversation with `account` with an owner-issued code sent as `/pair CODE`. */
export async function pairConversation(
  kakao: FakeKakao,
  relay: RelayContext,
  account: TestAccount,
  userKey: string,
  botId = 'bot-1',
): Promise<string> {
  const { code } = await issuePairingCode(relay, account.id);
  const answer = await kakao.send({ utterance: `/pair ${code}`, userKey, botId });
  return (
    (answer.body as { template?: { outputs?: Array<{ simpleText?: { text?: string } }> } })
      ?.template?.outputs?.[0]?.simpleText?.text ?? JSON.stringify(answer.body)
  );
}

export async function messageStates(
  relay: RelayContext,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await relay.db
    .select({ id: inboundMessages.id, status: inboundMessages.status })
    .from(inboundMessages)
    .where(inArray(inboundMessages.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.status]));
}

export async function messageState(relay: RelayContext, id: string): Promise<string | undefined> {
  const [row] = await relay.db
    .select({ status: inboundMessages.status })
    .from(inboundMessages)
    .where(eq(inboundMessages.id, id));
  return row?.status;
}

/**
 * Resolves once message `id` is in `state`: the relay marks deliveries after the write, so a
 * message can reach the agent a moment before its row says so.
 */
export async function untilMessageState(
  relay: RelayContext,
  id: string,
  state: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    `message ${id} to be ${state}`,
    async () => ((await messageState(relay, id)) === state ? true : undefined),
    { timeoutMs, intervalMs: 25 },
  );
}

/** Like `untilMessageState` for many messages at once. */
export async function untilMessageStates(
  relay: RelayContext,
  ids: readonly string[],
  state: string,
  timeoutMs = 10_000,
): Promise<void> {
  let last = new Map<string, string>();
  await waitFor(
    `${ids.length} messages to be ${state}`,
    async () => {
      last = await messageStates(relay, ids);
      const behind = ids.filter((id) => last.get(id) !== state);
      if (behind.length === 0) return true;
      throw new Error(`${behind.length} not ${state}, e.g. ${behind[0]}: ${last.get(behind[0]!)}`);
    },
    { timeoutMs, intervalMs: 50 },
  );
}
