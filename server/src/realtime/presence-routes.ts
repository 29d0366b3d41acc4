// Presence over HTTP and WebSocket: `GET /api/v1/presence` (access token), the `presence` op
// (with `watch`, subscribes to `presence.{id}`), and `GET /api/v1/nodes` for operators.
import { createHash, timingSafeEqual } from 'node:crypto';
import { presenceFrame } from '@switchboard/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../http/index.js';
import { AuthError, type Authenticator } from './auth.js';
import type { Hub } from './hub.js';
import type { NodeRegistry } from './nodes.js';
import { OpError, type OpRegistry } from './ops.js';
import type { Presence } from './presence.js';
import type { PresenceState } from './presence-store.js';
import { presenceTopic } from './topics.js';

export const PRESENCE_PATH = '/api/v1/presence';
export const NODES_PATH = '/api/v1/nodes';

/** One user's presence as clients see it. */
export type PresenceEntry = { userId: string } & PresenceState;

const MAX_USERS = 1000;
const userIdsQuery = z.object({
  userIds: z
    .string()
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(z.string().max(200))
        .min(1, 'userIds lists at least one user id')
        .max(MAX_USERS, `userIds lists at most ${MAX_USERS} user ids`),
    ),
});

async function entries(presence: Presence, userIds: readonly string[]): Promise<PresenceEntry[]> {
  const states = await presence.query(userIds);
  return userIds.map((userId) => ({ userId, ...(states.get(userId) ?? { online: false }) }));
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/** Compares secrets in time independent of where they differ (and of their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Decides whether a request comes from an operator; throws AppError when it does not. */
export type OperatorAuth = (request: FastifyRequest) => Promise<void>;

/** The operator check used unless another is installed: `X-Admin-Password: <ADMIN_PASSWORD>`. */
export function adminPasswordAuth(adminPassword: string): OperatorAuth {
  return (request) => {
    const given = request.headers['x-admin-password'];
    if (typeof given !== 'string' || given === '') {
      return Promise.reject(
        new AppError('unauthorized', 'Send the admin password in X-Admin-Password'),
      );
    }
    if (!sameSecret(given, adminPassword)) {
      return Promise.reject(new AppError('forbidden', 'The admin password is wrong'));
    }
    return Promise.resolve();
  };
}

export interface PresenceRoutesOptions {
  app: FastifyInstance;
  hub: Hub;
  auth: Authenticator;
  ops: OpRegistry;
  presence: Presence;
  nodes: NodeRegistry;
  /** Guards `GET /api/v1/nodes`. */
  authorizeOperator: OperatorAuth;
}

export function registerPresenceRoutes(options: PresenceRoutesOptions): void {
  const { app, hub, auth, presence, nodes } = options;

  app.get(PRESENCE_PATH, async (request) => {
    const token = bearer(request);
    if (!token)
      throw new AppError('unauthorized', 'Send the access token as Authorization: Bearer');
    await auth.verify(token).catch((err: unknown) => {
      if (!(err instanceof AuthError)) throw err;
      throw new AppError(err.reason === 'expired' ? 'token_expired' : 'unauthorized', err.message);
    });
    const parsed = userIdsQuery.safeParse(request.query);
    if (!parsed.success) {
      throw new AppError(
        'invalid_request',
        `userIds: ${parsed.error.issues[0]?.message ?? 'a comma-separated list of user ids'}`,
      );
    }
    return { presence: await entries(presence, parsed.data.userIds) };
  });

  app.get(NODES_PATH, async (request) => {
    await options.authorizeOperator(request);
    return { nodes: await nodes.list() };
  });

  options.ops.register('presence', async (connection, frame) => {
    const parsed = presenceFrame.safeParse(frame);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new OpError(
        'invalid_frame',
        issue ? `${issue.path.join('.')}: ${issue.message}` : undefined,
      );
    }
    const userIds = [...new Set(parsed.data.userIds)];
    // Subscribed before reading, so a change between the two is never missed (at worst seen twice).
    if (parsed.data.watch) await hub.subscribe(connection, userIds.map(presenceTopic));
    return { presence: await entries(presence, userIds) };
  });
}
