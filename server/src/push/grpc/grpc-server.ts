// The PushService over gRPC (HTTP/2, plaintext: terminate TLS in front of it). Same commands,
// validation and API keys as the HTTP routes; errors map from the catalogue to gRPC status codes.
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import type { ErrorCode } from '@switchboard/protocol';
import { AppError, renderError } from '../../http/index.js';
import { jsonInputProblem } from '../../security/well-formed.js';
import type { Logger } from '../../observability/index.js';
import type { ApiKeyVerifier } from '../api-key-verifier.js';
import { broadcastEvent } from '../commands/broadcast-event.js';
import type { Publisher } from '../commands/publisher.js';
import { publishEvent } from '../commands/publish-event.js';
import { pushEvent } from '../commands/push-event.js';
import { timedPush, type PushMetricsSink } from '../metrics.js';
import type { ApiKeyScope } from '../policies/scopes.js';
import { broadcastRequest, publishRequest, pushRequest } from '../schemas.js';
import { loadPushService } from './push-proto.js';

interface WireEvent {
  type: string;
  json: string;
}

export interface GrpcServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  hub: Publisher;
  verifier: ApiKeyVerifier;
  logger: Logger;
  /** Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
  metrics?: PushMetricsSink | undefined;
}

export interface GrpcServer {
  readonly port: number;
  /** Stops accepting, lets calls in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

const statusByCode: Partial<Record<ErrorCode, status>> = {
  invalid_request: status.INVALID_ARGUMENT,
  invalid_json: status.INVALID_ARGUMENT,
  unauthorized: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  payload_too_large: status.RESOURCE_EXHAUSTED,
  rate_limited: status.RESOURCE_EXHAUSTED,
  database_unavailable: status.UNAVAILABLE,
  broker_unavailable: status.UNAVAILABLE,
  not_ready: status.UNAVAILABLE,
  shutting_down: status.UNAVAILABLE,
};

/** Turns the wire `Event` into the event object the HTTP API takes, refusing malformed JSON. */
export function eventFromWire(event: WireEvent | null | undefined): unknown {
  if (!event) return undefined;
  let fields: unknown = {};
  if (event.json.trim() !== '') {
    try {
      fields = JSON.parse(event.json);
    } catch {
      throw new AppError('invalid_request', 'event.json: not valid JSON');
    }
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new AppError('invalid_request', 'event.json: must be a JSON object');
  }
  const problem = jsonInputProblem(event.json, fields);
  if (problem) throw new AppError('invalid_request', `event.json: ${problem}`);
  if (Object.hasOwn(fields, 'type')) {
    throw new AppError('invalid_request', 'event.json: put the type in event.type, not in json');
  }
  return { type: event.type, ...fields };
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const { hub, verifier, logger, metrics } = options;
  const service = loadPushService();
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
  });

  function toServiceError(err: unknown): Partial<ServiceError> {
    const rendered = renderError(err);
    const { code, message } = rendered.body.error;
    const grpcStatus =
      statusByCode[code] ?? (rendered.status >= 500 ? status.INTERNAL : status.INVALID_ARGUMENT);
    if (grpcStatus === status.INTERNAL) logger.error({ err }, 'gRPC call failed');
    const metadata = new Metadata();
    // The catalogue code, for callers that want the same detail the HTTP body gives.
    metadata.set('switchboard-error-code', code);
    return { code: grpcStatus, details: message, metadata };
  }

  function unary<Req, Res>(
    method: string,
    scope: ApiKeyScope,
    handle: (request: Req) => Promise<Res>,
  ) {
    const path = `/switchboard.push.v1.PushService/${method}`;
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const done = metrics?.startGrpc(path);
      const [authorization] = call.metadata.get('authorization');
      verifier
        .authenticate(typeof authorization === 'string' ? authorization : undefined, scope)
        .then(() => handle(call.request))
        .then(
          (response) => {
            done?.('OK');
            callback(null, response);
          },
          (err: unknown) => {
            const serviceError = toServiceError(err);
            done?.(status[serviceError.code ?? status.UNKNOWN]);
            callback(serviceError);
          },
        );
    };
  }

  server.addService(service.service, {
    Publish: unary(
      'Publish',
      'publish',
      async (request: { topic: string; event: WireEvent | null }) => {
        const parsed = publishRequest.parse({
          topic: request.topic,
          event: eventFromWire(request.event),
        });
        const result = await publishEvent(hub, parsed);
        return { topic: result.topic, seq: result.seq ?? 0 };
      },
    ),
    Push: unary('Push', 'push', async (request: { userIds: string[]; event: WireEvent | null }) => {
      const parsed = pushRequest.parse({
        userIds: request.userIds,
        event: eventFromWire(request.event),
      });
      return timedPush(metrics, 'grpc', parsed.userIds.length, () => pushEvent(hub, parsed));
    }),
    Broadcast: unary('Broadcast', 'broadcast', async (request: { event: WireEvent | null }) => {
      const parsed = broadcastRequest.parse({ event: eventFromWire(request.event) });
      const result = await broadcastEvent(hub, parsed);
      return { seq: result.seq ?? 0 };
    }),
  });

  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  return {
    port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logger.warn({ graceMs }, 'gRPC calls still running at the deadline; cutting them');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
