// Every configuration key the server reads: its schema, default, what it expects and what it does.
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** How a key is described to operators, in errors and in docs/operations.md. */
export interface KeySpec<
  T extends z.ZodType = z.ZodType,
  S extends SecretKind | undefined = SecretKind | undefined,
> {
  readonly schema: T;
  /** What a valid value looks like, phrased to finish "expected …". */
  readonly expected: string;
  readonly doc: string;
  /** Secrets are masked when printed; in production the required ones must be set. */
  readonly secret?: S;
}

/** `generated`: made once and kept in DATA_DIR outside production; `optional`: may stay unset. */
export type SecretKind = 'generated' | 'optional';

const boolString = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v))
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
]);

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const emptyToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalString = (inner: z.ZodString) => z.preprocess(emptyToUndefined, inner.optional());

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\/.+/.test(v) && URL.canParse(v));

const redisUrl = z
  .string()
  .trim()
  .refine((v) => /^rediss?:\/\/.+/.test(v) && URL.canParse(v));

/** A comma-separated list (or YAML list) of IPv4/IPv6 addresses and CIDR ranges. */
const ipList = z.preprocess(
  emptyToUndefined,
  z
    .union([
      z.array(z.string()),
      z.string().transform((v) =>
        v
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z.array(
        z
          .string()
          .trim()
          .refine((v) => ipaddr.isValid(v) || ipaddr.isValidCIDR(v)),
      ),
    )
    .optional(),
);

export const roleNames = ['api', 'gateway', 'worker'] as const;
export type Role = (typeof roleNames)[number];

export const rolesSchema = z.union([
  z.array(z.enum(roleNames)).min(1),
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(roleNames)).min(1)),
]);

function spec<T extends z.ZodType, S extends SecretKind | undefined = undefined>(
  schema: T,
  expected: string,
  doc: string,
  secret?: S,
): KeySpec<T, S> {
  return secret ? { schema, expected, doc, secret } : { schema, expected, doc };
}

export const configKeys = {
  NODE_ENV: spec(
    z.enum(['development', 'test', 'production']).default('development'),
    'one of development, test, production',
    'Run mode. `production` refuses development shortcuts and requires every secret to be set.',
  ),
  HOST: spec(
    z.string().trim().min(1).default('0.0.0.0'),
    'a host name or IP address to listen on',
    'Address the HTTP server binds to.',
  ),
  PORT: spec(
    int(0, 65535).default(8080),
    'an integer from 0 to 65535 (0 picks a free port)',
    'HTTP port for the REST API, WebSocket and SSE.',
  ),
  GRPC_ENABLED: spec(
    boolString.default(true),
    'true or false',
    'Serve the gRPC PushService (processes with the api role); false turns it off.',
  ),
  GRPC_PORT: spec(
    int(0, 65535).default(15091),
    'an integer from 0 to 65535 (0 picks a free port)',
    'Port of the gRPC PushService, on HOST.',
  ),
  PUSH_API_KEY_CACHE_SECONDS: spec(
    int(0, 300).default(5),
    'an integer from 0 to 300',
    'How long a node trusts a looked-up server API key; a revoke reaches other nodes within this time (the revoking node at once).',
  ),
  LOG_LEVEL: spec(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'one of fatal, error, warn, info, debug, trace, silent',
    'Minimum level of the structured (JSON, pino) log written to stdout.',
  ),
  INSTANCE_ID: spec(
    optionalString(
      z
        .string()
        .trim()
        .regex(/^[\w.-]{1,64}$/),
    ),
    'up to 64 letters, digits, dots, dashes or underscores',
    'Name of this instance in logs and the node registry. Default: host name plus a random suffix.',
  ),
  ROLES: spec(
    rolesSchema.default(['api', 'gateway', 'worker']),
    'a comma-separated list of api, gateway, worker',
    'Which roles this process runs; `serve --roles` overrides it.',
  ),
  DATA_DIR: spec(
    z.string().trim().min(1).default('./data'),
    'a directory path',
    'Where embedded mode keeps its PGlite database and generated secrets.',
  ),
  CONFIG_DIR: spec(
    z.string().trim().min(1).default('./config'),
    'a directory path',
    'Where `default.yaml` and `<NODE_ENV>.yaml` are read from (only from the environment or `.env`).',
  ),
  DATABASE_URL: spec(
    optionalString(postgresUrl),
    'a postgres:// or postgresql:// URL',
    'PostgreSQL to use (directly or through PgBouncer in transaction mode). Unset: embedded PGlite in DATA_DIR.',
    'optional',
  ),
  DATABASE_POOL_MAX: spec(
    int(1, 1000).default(10),
    'an integer from 1 to 1000',
    'Maximum PostgreSQL connections this process opens.',
  ),
  DATABASE_PREPARED_STATEMENTS: spec(
    boolString.default(true),
    'true or false',
    'Run the hot statements (a chat post, a Kakao webhook) as named prepared statements, planned once per connection. Set false behind PgBouncer in transaction mode older than 1.21 or without max_prepared_statements.',
  ),
  DATABASE_CONNECT_TIMEOUT_MS: spec(
    int(100, 120_000).default(5000),
    'an integer from 100 to 120000',
    'How long to wait for a PostgreSQL connection before answering 503.',
  ),
  MIGRATE_ON_START: spec(
    boolString.default(true),
    'true or false',
    'Apply pending migrations at start (under an advisory lock, so instances may start together).',
  ),
  REDIS_URL: spec(
    optionalString(redisUrl),
    'a redis:// or rediss:// URL',
    'Redis for cross-instance fan-out, presence and rate limits. Unset: in-memory broker (one instance).',
    'optional',
  ),
  RATE_LIMIT_KEY_PREFIX: spec(
    z
      .string()
      .regex(/^[\w.:-]{1,100}$/)
      .default('sb:rl:'),
    'letters, digits and . : _ -, up to 100',
    'Prefix of the rate-limit counters in Redis. Nodes of one cluster share it; deployments that share a Redis use different ones.',
  ),
  REALTIME_HISTORY_SIZE: spec(
    int(0, 100_000).default(1000),
    'an integer from 0 to 100000',
    'Events kept per topic for resume (Last-Event-ID / resume op); older resume points get resync_required.',
  ),
  REALTIME_HISTORY_TTL_SECONDS: spec(
    int(10, 30 * 24 * 3600).default(86_400),
    'an integer number of seconds from 10 to 2592000',
    'How long a topic keeps its history after its last event.',
  ),
  REALTIME_MAX_BUFFER_BYTES: spec(
    int(16 * 1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
    'an integer number of bytes from 16384 to 268435456',
    'Outgoing bytes a connection may have queued; a slower client is closed with 4008 slow_consumer and resumes.',
  ),
  REALTIME_PING_INTERVAL_SECONDS: spec(
    int(1, 300).default(30),
    'an integer from 1 to 300',
    'Server WebSocket ping and SSE `: ping` comment interval.',
  ),
  REALTIME_PONG_TIMEOUT_SECONDS: spec(
    int(2, 600).default(60),
    'an integer from 2 to 600',
    'A WebSocket that has not answered a ping for this long is closed (4005 pong_timeout).',
  ),
  REALTIME_AUTH_TIMEOUT_SECONDS: spec(
    int(1, 120).default(10),
    'an integer from 1 to 120',
    'How long a WebSocket may stay open without authenticating (first `auth` frame).',
  ),
  PRESENCE_LEASE_SECONDS: spec(
    int(2, 300).default(20),
    'an integer from 2 to 300',
    'A node that has not renewed its presence lease for this long is taken as dead: its users go offline (within this plus at most 5 s).',
  ),
  NODE_LEASE_SECONDS: spec(
    int(2, 300).default(15),
    'an integer from 2 to 300',
    'How long a node stays listed in `GET /api/v1/nodes` without renewing its entry (renewed every third of this).',
  ),
  DATABASE_LISTEN_URL: spec(
    optionalString(postgresUrl),
    'a postgres:// or postgresql:// URL',
    'A direct PostgreSQL connection (not through PgBouncer) for LISTEN, so relay workers wake at once when the fast path fails. Unset: DATABASE_URL; without a working LISTEN workers still poll every OUTBOX_POLL_INTERVAL_MS.',
    'optional',
  ),
  DURABLE_TOPIC_PREFIXES: spec(
    z
      .union([
        z.array(z.string()),
        z.string().transform((v) =>
          v
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean),
        ),
      ])
      .pipe(z.array(z.string().regex(/^[\w.:-]{1,100}$/)))
      .default(['durable.']),
    'a comma-separated list of topic prefixes',
    'Topics published through the publish API that go through the outbox: committed to PostgreSQL before the call answers, delivered at least once, and resumable from PostgreSQL. Modules add their own (chat channels, relay accounts).',
  ),
  OUTBOX_FAST_PATH: spec(
    boolString.default(true),
    'true or false',
    'The committing process publishes new outbox events at once; false leaves every event to the relay workers.',
  ),
  OUTBOX_FAST_PATH_GRACE_MS: spec(
    int(0, 600_000).default(2000),
    'an integer number of milliseconds from 0 to 600000',
    'How long relay workers leave a new event to the process that committed it before taking it over (after a crash, say).',
  ),
  OUTBOX_POLL_INTERVAL_MS: spec(
    int(10, 60_000).default(1000),
    'an integer number of milliseconds from 10 to 60000',
    'How often an idle relay worker looks for due events when nothing wakes it.',
  ),
  OUTBOX_BATCH_SIZE: spec(
    int(1, 10_000).default(500),
    'an integer from 1 to 10000',
    'Events a relay worker claims per transaction.',
  ),
  OUTBOX_WORKERS: spec(
    int(0, 64).default(1),
    'an integer from 0 to 64',
    'Relay worker loops in each process with the worker role.',
  ),
  OUTBOX_MAX_ATTEMPTS: spec(
    int(1, 100).default(5),
    'an integer from 1 to 100',
    'Failed attempts after which an event is dead-lettered. Failures because the broker or database is down do not count.',
  ),
  OUTBOX_RETRY_BASE_MS: spec(
    int(10, 600_000).default(1000),
    'an integer number of milliseconds from 10 to 600000',
    'Wait after the first failed attempt; it doubles with each further one (with ±20 % jitter).',
  ),
  OUTBOX_RETRY_MAX_MS: spec(
    int(10, 3_600_000).default(60_000),
    'an integer number of milliseconds from 10 to 3600000',
    'Longest wait between two attempts of one event.',
  ),
  OUTBOX_CONSUMER_TIMEOUT_MS: spec(
    int(100, 600_000).default(10_000),
    'an integer number of milliseconds from 100 to 600000',
    'How long one consumer may take for one event before the attempt counts as failed.',
  ),
  OUTBOX_RETENTION_SECONDS: spec(
    int(60, 365 * 24 * 3600).default(3 * 24 * 3600),
    'an integer number of seconds from 60 to 31536000',
    'How long events are kept after they were written (one with work left stays until it is done); they are also the resume history of durable topics.',
  ),
  OUTBOX_CLEANUP_INTERVAL_SECONDS: spec(
    int(1, 86_400).default(300),
    'an integer number of seconds from 1 to 86400',
    'How often the retention job runs (on one worker node at a time).',
  ),
  PUBSUB_MODE: spec(
    z.enum(['perconv', 'global']).default('perconv'),
    'perconv or global',
    'Redis fan-out: `perconv` uses one Redis channel per topic (nodes receive only what they need); `global` one channel for everything (small clusters).',
  ),
  BODY_LIMIT_BYTES: spec(
    int(1024, 100 * 1024 * 1024).default(1024 * 1024),
    'an integer number of bytes from 1024 to 104857600',
    'Largest accepted request body; larger bodies get 413.',
  ),
  TRUST_PROXY: spec(
    boolString.default(false),
    'true or false',
    'Trust X-Forwarded-* headers (set behind a load balancer) for client IPs.',
  ),
  REALTIME_MAX_CONNECTIONS: spec(
    int(0, 10_000_000).default(0),
    'an integer from 0 to 10000000 (0: no limit)',
    'WebSocket and SSE connections this instance accepts at once; more get 429 too_many_connections.',
  ),
  REALTIME_MAX_CONNECTIONS_PER_IP: spec(
    int(0, 10_000_000).default(0),
    'an integer from 0 to 10000000 (0: no limit)',
    'WebSocket and SSE connections one client IP may hold on this instance (429 too_many_connections).',
  ),
  REALTIME_MAX_CONNECTIONS_PER_USER: spec(
    int(0, 100_000).default(0),
    'an integer from 0 to 100000 (0: no limit)',
    'Connections one user may hold on this instance; over it the handshake gets 429, or an `auth` frame closes with 4010.',
  ),
  REALTIME_HANDSHAKES_PER_SECOND_PER_IP: spec(
    int(0, 100_000).default(0),
    'an integer from 0 to 100000 (0: no limit)',
    'New WebSocket and SSE connections per second per client IP on this instance (bursts of twice this); more get 429 rate_limited.',
  ),
  REALTIME_IP_ALLOW: spec(
    ipList,
    'comma-separated IPv4/IPv6 addresses or CIDR ranges',
    'If set, only these clients may open WebSocket and SSE connections (403 forbidden otherwise).',
  ),
  REALTIME_IP_DENY: spec(
    ipList,
    'comma-separated IPv4/IPv6 addresses or CIDR ranges',
    'Clients that may never open WebSocket and SSE connections (403 forbidden); wins over REALTIME_IP_ALLOW.',
  ),
  REALTIME_PERMESSAGE_DEFLATE: spec(
    boolString.default(false),
    'true or false',
    'Offer permessage-deflate compression to WebSocket clients (costs CPU and memory per socket).',
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: spec(
    optionalString(
      z
        .string()
        .trim()
        .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v)),
    ),
    'an http(s) URL of an OTLP/HTTP collector',
    'If set, traces (HTTP requests, publish and deliver) are exported to `<url>/v1/traces`. Unset: tracing is off.',
  ),
  SHUTDOWN_TIMEOUT_SECONDS: spec(
    int(1, 29).default(25),
    'an integer from 1 to 29',
    'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway.',
  ),
  SHUTDOWN_DRAIN_SECONDS: spec(
    int(0, 20).default(0),
    'an integer from 0 to 20',
    'On SIGTERM/SIGINT, how long to keep serving while /readyz says 503, so load balancers stop routing here first (5 is typical behind one).',
  ),
  JWT_SECRET: spec(
    optionalString(z.string().min(32)),
    'at least 32 characters',
    'HS256 key for the access tokens the server issues. Generated in embedded mode; required in production.',
    'generated',
  ),
  JWT_PUBLIC_KEY: spec(
    optionalString(z.string().min(1)),
    'a PEM public key (RS256 or ES256), or dev-placeholder',
    'Verifies access tokens issued by an external identity provider. `dev-placeholder` turns on dev mode (the token is the user id), which is refused in production.',
  ),
  JWT_JWKS_URL: spec(
    optionalString(
      z
        .string()
        .trim()
        .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v)),
    ),
    'an http(s) URL of a JSON Web Key Set',
    'Verifies access tokens against the identity provider’s published keys (fetched and cached).',
  ),
  JWT_ISSUER: spec(
    optionalString(z.string().min(1)),
    'a non-empty string',
    'If set, access tokens must carry this `iss`.',
  ),
  JWT_AUDIENCE: spec(
    optionalString(z.string().min(1)),
    'a non-empty string',
    'If set, access tokens must carry this `aud`.',
  ),
  CHAT_ACCESS_TOKEN_TTL_SECONDS: spec(
    int(60, 24 * 3600).default(900),
    'an integer number of seconds from 60 to 86400',
    'Lifetime of the access tokens chat sign-in issues (HS256 with JWT_SECRET).',
  ),
  CHAT_REFRESH_TOKEN_TTL_SECONDS: spec(
    int(300, 365 * 24 * 3600).default(7 * 24 * 3600),
    'an integer number of seconds from 300 to 31536000',
    'Lifetime of a refresh token; each use rotates it, and reusing a rotated one revokes the whole sign-in.',
  ),
  CHAT_LOGIN_MAX_FAILURES: spec(
    int(1, 1000).default(5),
    'an integer from 1 to 1000',
    'Wrong passwords in a row after which an account is locked for CHAT_LOGIN_LOCKOUT_SECONDS.',
  ),
  CHAT_LOGIN_LOCKOUT_SECONDS: spec(
    int(1, 7 * 24 * 3600).default(900),
    'an integer number of seconds from 1 to 604800',
    'How long an account stays locked after too many wrong passwords.',
  ),
  CHAT_REGISTRATION: spec(
    z.enum(['open', 'closed']).default('open'),
    'open or closed',
    '`open`: anyone may register; `closed`: accounts come from invites, the CLI or an identity provider.',
  ),
  CHAT_RATE_LIMIT_IP_PER_MINUTE: spec(
    int(0, 1_000_000).default(6000),
    'an integer from 0 (no limit) to 1000000',
    'Requests to the chat API one IP address may make per minute (a flood guard: people behind one NAT share it).',
  ),
  CHAT_RATE_LIMIT_WRITES_PER_MINUTE: spec(
    int(0, 1_000_000).default(1200),
    'an integer from 0 (no limit) to 1000000',
    'Chat API writes (POST, PUT, PATCH, DELETE) one user may make per minute.',
  ),
  CHAT_RATE_LIMIT_MESSAGES_PER_MINUTE: spec(
    int(0, 1_000_000).default(600),
    'an integer from 0 (no limit) to 1000000',
    'Messages and thread replies one user may send through the chat API per minute (on top of the writes limit).',
  ),
  CHAT_RATE_LIMIT_SEARCHES_PER_MINUTE: spec(
    int(0, 1_000_000).default(120),
    'an integer from 0 (no limit) to 1000000',
    'Message searches one user may run per minute.',
  ),
  ADMIN_PASSWORD: spec(
    optionalString(z.string().min(8)),
    'at least 8 characters',
    'Password of the relay admin console. Generated (and logged once) in embedded mode; required in production.',
    'generated',
  ),
  ADMIN_SESSION_SECRET: spec(
    optionalString(z.string().min(32)),
    'at least 32 characters',
    'HMAC key for admin session tokens. Generated in embedded mode; required in production.',
    'generated',
  ),
  PORTAL_SESSION_SECRET: spec(
    optionalString(z.string().min(32)),
    'at least 32 characters',
    'HMAC key for portal session tokens and `/code` access codes. Generated in embedded mode; required in production.',
    'generated',
  ),
  KAKAO_SIGNATURE_SECRET: spec(
    optionalString(z.string().min(1)),
    'a non-empty string',
    'If set, Kakao webhooks must carry a valid X-Kakao-Signature HMAC-SHA256.',
    'optional',
  ),
  QUEUE_TTL_SECONDS: spec(
    int(10, 7 * 24 * 3600).default(900),
    'an integer from 10 to 604800',
    'How long a relay message waits for its agent before it expires.',
  ),
  CALLBACK_TTL_SECONDS: spec(
    int(1, 600).default(55),
    'an integer from 1 to 600',
    'How long a Kakao callback URL stays usable for a reply.',
  ),
  KAKAO_WEBHOOK_SECRET: spec(
    optionalString(z.string().min(16)),
    'at least 16 characters',
    'If set, Kakao webhooks must carry it in the X-Relay-Secret header or as the last path segment (/kakao-talkchannel/webhook/<secret>): Kakao can send static headers but cannot sign bodies.',
    'optional',
  ),
  KAKAO_WEBHOOK_DEADLINE_MS: spec(
    int(100, 4500).default(4000),
    'an integer number of milliseconds from 100 to 4500',
    'How long the Kakao webhook may work on a message before it answers with an error text anyway: Kakao drops answers after 5 s.',
  ),
  RELAY_CALLBACK_TIMEOUT_MS: spec(
    int(100, 60_000).default(5000),
    'an integer from 100 to 60000',
    'Timeout of the POST of a reply to a Kakao callback URL.',
  ),
  RELAY_CALLBACK_INSECURE_HOSTS: spec(
    z.preprocess(
      emptyToUndefined,
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((h) => h.trim().toLowerCase())
            .filter(Boolean),
        )
        .optional(),
    ),
    'a comma-separated list of host names or host:port pairs',
    "Callback hosts allowed besides Kakao's own (https on .kakao.com, .kakaocdn.net, .kakaoenterprise.com), over http or https; for test doubles only, refused in production.",
  ),
  RELAY_SESSION_TTL_SECONDS: spec(
    int(30, 86_400).default(300),
    'an integer from 30 to 86400',
    'How long a plugin-created session (and its pairing code) waits for a Kakao user to pair.',
  ),
  RELAY_MESSAGE_RETENTION_DAYS: spec(
    int(1, 3650).default(30),
    'an integer from 1 to 3650',
    'Relay messages (Kakao payloads are personal data) older than this are deleted by the clean-up job.',
  ),
  RELAY_STATIC_DIR: spec(
    optionalString(z.string()),
    'a directory path',
    'Directory holding the admin and portal single-page apps (admin/ and portal/ with index.html); the built-in placeholder pages when unset.',
  ),
  PORTAL_BASE_URL: spec(
    optionalString(z.string().url()),
    'an absolute URL',
    'Public address of the portal, shown to Kakao users with their /code access code.',
  ),
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof configKeys;

export const configSchema = z.object(
  Object.fromEntries(Object.entries(configKeys).map(([k, s]) => [k, s.schema])) as {
    [K in ConfigKey]: (typeof configKeys)[K]['schema'];
  },
);

type Parsed = z.output<typeof configSchema>;

/** Keys whose secret is generated in embedded mode and required in production. */
export type GeneratedSecretKey = {
  [K in ConfigKey]: (typeof configKeys)[K] extends KeySpec<z.ZodType, 'generated'> ? K : never;
}[ConfigKey];

const allKeys = Object.keys(configKeys) as ConfigKey[];

export const generatedSecretKeys = allKeys.filter(
  (k): k is GeneratedSecretKey => (configKeys[k] as KeySpec).secret === 'generated',
);

export const secretKeys = allKeys.filter((k) => (configKeys[k] as KeySpec).secret !== undefined);

/** The effective, validated configuration: generated secrets and the instance id always set. */
export type Config = Omit<Parsed, GeneratedSecretKey | 'INSTANCE_ID'> & {
  readonly [K in GeneratedSecretKey]: string;
} & { readonly INSTANCE_ID: string };
