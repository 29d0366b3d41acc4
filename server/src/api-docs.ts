// The OpenAPI entries of the core modules' /api/v1 routes: the publish API, presence, nodes, the
// SSE transport and the outbox operator API. (WebSocket upgrades at /ws and /api/v1/ws are not
// HTTP routes; the spec's description names them.)
import { z } from 'zod';
import type { RouteDocs } from './http/openapi.js';
import { deadLettersQuery, redriveRequest } from './pipeline/routes/outbox-admin-schemas.js';
import { broadcastRequest, publishRequest, pushRequest } from './push/schemas.js';

export const coreRouteDocs: RouteDocs = {
  'POST /api/v1/publish': {
    tag: 'publish',
    auth: 'apiKey',
    summary: 'Publish an event to a topic',
    description:
      'Needs the `publish` scope. Durable topics (DURABLE_TOPIC_PREFIXES) go through the outbox and answer `{ topic, seq }` after the commit.',
    body: publishRequest,
  },
  'POST /api/v1/push': {
    tag: 'publish',
    auth: 'apiKey',
    summary: 'Send an event to 1–10000 users',
    description: 'Needs the `push` scope; each user receives it on their own topic.',
    body: pushRequest,
  },
  'POST /api/v1/broadcast': {
    tag: 'publish',
    auth: 'apiKey',
    summary: 'Send an event to every connected client',
    description: 'Needs the `broadcast` scope.',
    body: broadcastRequest,
  },
  'GET /api/v1/presence': {
    tag: 'realtime',
    auth: 'user',
    summary: 'Whether users are online, and when they were last seen',
    query: z.object({ userIds: z.string().describe('Comma-separated user ids') }),
  },
  'GET /api/v1/nodes': {
    tag: 'operators',
    auth: 'operator',
    summary: 'The live nodes of the cluster (id, url, roles, connections, version)',
  },
  'GET /api/v1/events/stream': {
    tag: 'realtime',
    auth: 'user',
    summary: 'Server-sent events: the realtime stream over plain HTTP',
    description:
      'Subscribes with `topics=a,b` and resumes from `Last-Event-ID` (`topic=seq` cursors); the access token comes as a bearer header or `token` query parameter.',
  },
  'GET /api/v1/admin/outbox': {
    tag: 'operators',
    auth: 'operator',
    summary: 'Outbox statistics: pending rows, lag, dead letters',
  },
  'GET /api/v1/admin/outbox/dead-letters': {
    tag: 'operators',
    auth: 'operator',
    summary: 'Dead-lettered outbox events, by cursor',
    query: deadLettersQuery,
  },
  'POST /api/v1/admin/outbox/dead-letters/redrive': {
    tag: 'operators',
    auth: 'operator',
    summary: 'Make dead-lettered events due again (by id, or all)',
    body: redriveRequest,
  },
};
