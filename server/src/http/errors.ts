// Errors become HTTP responses only here, at the edge, using the protocol's catalogue.
import { errorBody, errorCatalogue, type ErrorBody, type ErrorCode } from '@switchboard/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import {
  isDatabaseUnavailable,
  isUnstorableText,
  UNSTORABLE_TEXT_MESSAGE,
} from '../store/index.js';

/** An error with a catalogue code; thrown anywhere, rendered at the edge. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'AppError';
    this.status = errorCatalogue[code].status;
  }
}

const codeByStatus: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'not_ready',
};

interface Rendered {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** Maps any thrown value to a status and the standard error body. */
export function renderError(error: unknown): Rendered {
  if (error instanceof AppError) {
    const rendered: Rendered = {
      status: error.status,
      body: errorBody(error.code, error.message, error.details),
    };
    if (error.headers) rendered.headers = error.headers;
    return rendered;
  }
  if (error instanceof ZodError) {
    const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = issues[0];
    const message = first
      ? `${first.path ? `${first.path}: ` : ''}${first.message}`
      : 'Invalid request';
    return { status: 400, body: errorBody('invalid_request', message, issues) };
  }
  if (isUnstorableText(error)) {
    return { status: 400, body: errorBody('invalid_request', UNSTORABLE_TEXT_MESSAGE) };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      body: errorBody('database_unavailable'),
      headers: { 'retry-after': '2' },
    };
  }
  const fastifyError = error as Partial<FastifyError> & { status?: number };
  const status = fastifyError.statusCode ?? fastifyError.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 400 && isJsonSyntaxError(fastifyError)) {
      return {
        status,
        body: errorBody(
          'invalid_json',
          `The request body is not valid JSON: ${fastifyError.message}`,
        ),
      };
    }
    if (fastifyError.validation) {
      return { status: 400, body: errorBody('invalid_request', fastifyError.message) };
    }
    const code = codeByStatus[status] ?? 'invalid_request';
    const message =
      status === 413
        ? errorCatalogue.payload_too_large.message
        : (fastifyError.message ?? errorCatalogue[code].message);
    return { status, body: errorBody(code, message) };
  }
  return { status: 500, body: errorBody('internal_error') };
}

function isJsonSyntaxError(error: Partial<FastifyError>): boolean {
  return (
    error instanceof SyntaxError ||
    error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    error.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
  );
}

/** Fastify error handler: logs server faults with the request id and answers in the error shape. */
export function handleHttpError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const rendered = renderError(error);
  if (rendered.status >= 500) {
    request.log.error({ err: error }, 'request failed');
  } else {
    request.log.info({ code: rendered.body.error.code }, rendered.body.error.message);
  }
  if (rendered.headers) void reply.headers(rendered.headers);
  return reply.status(rendered.status).send(rendered.body);
}
