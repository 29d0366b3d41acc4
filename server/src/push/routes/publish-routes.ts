// POST /api/v1/publish, /push and /broadcast: thin handlers over the publish commands, behind a
// server API key checked before the body is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyVerifier } from '../api-key-verifier.js';
import { broadcastEvent } from '../commands/broadcast-event.js';
import type { Publisher } from '../commands/publisher.js';
import { publishEvent } from '../commands/publish-event.js';
import { pushEvent } from '../commands/push-event.js';
import { timedPush, type PushMetricsSink } from '../metrics.js';
import type { ApiKeyScope } from '../policies/scopes.js';
import {
  broadcastRequest,
  publishRequest,
  PUSH_USER_IDS_ALLOWANCE,
  pushRequest,
} from '../schemas.js';

export interface PublishRoutesOptions {
  hub: Publisher;
  verifier: ApiKeyVerifier;
  /** The app's body limit; a push may exceed it by its user id list. */
  bodyLimit: number;
  metrics?: PushMetricsSink | undefined;
}

export function registerPublishRoutes(app: FastifyInstance, options: PublishRoutesOptions): void {
  const { hub, verifier } = options;
  const requireKey = (scope: ApiKeyScope) => async (request: FastifyRequest) => {
    const principal = await verifier.authenticate(request.headers.authorization, scope);
    request.log.debug({ apiKey: principal.prefix, scope }, 'api key accepted');
  };

  app.post('/api/v1/publish', { onRequest: requireKey('publish') }, async (request) =>
    publishEvent(hub, publishRequest.parse(request.body)),
  );

  app.post(
    '/api/v1/push',
    { onRequest: requireKey('push'), bodyLimit: options.bodyLimit + PUSH_USER_IDS_ALLOWANCE },
    async (request) => {
      const body = pushRequest.parse(request.body);
      return timedPush(options.metrics, 'http', body.userIds.length, () => pushEvent(hub, body));
    },
  );

  app.post('/api/v1/broadcast', { onRequest: requireKey('broadcast') }, async (request) =>
    broadcastEvent(hub, broadcastRequest.parse(request.body)),
  );
}
