// The Fastify application: request ids, body limits, the JSON error edge and health routes.
// Modules add their routes as plugins from the composition root.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { errorBody } from '@switchboard/protocol';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from '../observability/index.js';
import { AppError, handleHttpError } from './errors.js';
import { registerHealthRoutes } from './health-routes.js';
import { rawErrorResponse } from './raw-response.js';
import type { Readiness } from './readiness.js';
import { jsonInputProblem } from '../security/well-formed.js';

export interface HttpAppOptions {
  logger: Logger;
  readiness: Readiness;
  bodyLimit: number;
  trustProxy: boolean;
}

/** One info line per request (on completion); the arrival line is debug-level. */
class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug(
      {
        req: {
          method: request.method,
          url: loggableUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
        },
      },
      'incoming request',
    );
  }
}

const SECRET_QUERY = /([?&](?:token|access_token|code)=)[^&#]*/gi;
const SECRET_PATH = /^(\/(?:kakao|kakao-talkchannel)\/webhook\/)[^/?#]+/;
// The plugin asks for its pairing session's status with the session token in the path.
const SESSION_TOKEN_PATH = /^(\/+v1\/sessions\/)[^/?#]+(?=\/status)/;

/**
 * The URL as logs may show it: access tokens in the query (`?token=` for SSE and WebSocket
 * clients), the webhook's secret path segment and a pairing session's token in its status path
 * are replaced with `****`.
 */
export function loggableUrl(url: string): string {
  return url
    .replace(SECRET_PATH, '$1****')
    .replace(SESSION_TOKEN_PATH, '$1****')
    .replace(SECRET_QUERY, '$1****');
}

const requestIdPattern = /^[\w.:-]{1,128}$/;

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    message: 'The request headers are too large (16 KiB at most).',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive.' },
};

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, message } = CLIENT_ERRORS[error.code ?? ''] ?? {
    status: 400,
    message: 'The request is not valid HTTP.',
  };
  if (socket.writable) socket.write(rawErrorResponse(status, 'invalid_request', message));
  socket.destroy(error);
}

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  // Typed as Fastify's logger interface so the app's type stays the default FastifyInstance.
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance,
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    // Keep-alive sockets with no request in flight are closed at shutdown instead of holding it.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    logController: new RequestLogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming)
        ? incoming
        : randomUUID();
    },
    // `//health` too: a released agent plugin joins its base URL and paths with a double slash.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    // The router's own refusals (a path that does not decode, a path parameter over 100
    // characters) answer in the error shape too.
    frameworkErrors: (error, request, reply) => {
      void handleHttpError(error, request, reply);
    },
    // Requests Node's HTTP parser refuses before Fastify sees them: the error shape too.
    clientErrorHandler: answerClientError,
  });

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // Closing only drops keep-alive sockets that are idle at that moment; one whose request is still
  // in flight would stay open afterwards and hold close() for Fastify's 72 s keep-alive timeout,
  // past the shutdown deadline. Answers sent while closing tell the client to hang up instead.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  // Fastify's own JSON parser (prototype poisoning refused), then what storing and re-encoding
  // the value needs (well-formed.ts).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    void parseJson(request, body as string, (error, value) => {
      if (error) {
        done(error, undefined);
        return;
      }
      const problem = jsonInputProblem(body as string, value);
      if (problem) done(new AppError('invalid_request', problem), undefined);
      else done(null, value);
    });
  });

  app.setErrorHandler(handleHttpError);
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  registerHealthRoutes(app, options.readiness);
  return app;
}
