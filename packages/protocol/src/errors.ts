/**
 * The one catalogue of stable error codes. Every HTTP error body and every protocol error frame
 * carries one of these codes; `docs/errors.md` is kept in sync with this table by a test.
 */

/** A catalogue entry: the HTTP status used at the edge and a default human message. */
export interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
}

export const errorCatalogue = {
  invalid_request: {
    status: 400,
    message: 'The request is malformed or a field is invalid; see the message for which one.',
  },
  invalid_json: {
    status: 400,
    message: 'The request body is not valid JSON.',
  },
  unauthorized: {
    status: 401,
    message: 'Authentication is missing or invalid.',
  },
  forbidden: {
    status: 403,
    message: 'You are not allowed to do this.',
  },
  not_found: {
    status: 404,
    message: 'No such resource or route.',
  },
  method_not_allowed: {
    status: 405,
    message: 'This route does not accept that HTTP method.',
  },
  conflict: {
    status: 409,
    message: 'The request conflicts with the current state of the resource.',
  },
  gone: {
    status: 410,
    message: 'The resource existed but is no longer available.',
  },
  payload_too_large: {
    status: 413,
    message: 'The request body is larger than the configured limit.',
  },
  unsupported_media_type: {
    status: 415,
    message: 'The request body has a content type this route does not accept.',
  },
  rate_limited: {
    status: 429,
    message: 'Too many requests; retry after the time given in Retry-After.',
  },
  invalid_frame: {
    status: 400,
    message: 'The frame is not a JSON object with a valid `op`, or a field is invalid.',
  },
  unknown_op: {
    status: 400,
    message: 'The server does not know this op.',
  },
  auth_required: {
    status: 401,
    message: 'Authenticate first: send an `auth` frame or connect with a token.',
  },
  token_expired: {
    status: 401,
    message: 'The access token has expired; send a new one in an `auth` frame or reconnect.',
  },
  too_many_connections: {
    status: 429,
    message: 'A connection limit was reached; retry later.',
  },
  invalid_credentials: {
    status: 401,
    message: 'The login or password is wrong.',
  },
  account_locked: {
    status: 429,
    message: 'Too many wrong passwords: the account is locked for a while; see Retry-After.',
  },
  refresh_token_invalid: {
    status: 401,
    message: 'The refresh token is unknown, expired or revoked; sign in again.',
  },
  refresh_token_reused: {
    status: 401,
    message:
      'A refresh token was used twice, so every token of that sign-in is revoked; sign in again.',
  },
  email_taken: {
    status: 409,
    message: 'An account with this email exists already.',
  },
  username_taken: {
    status: 409,
    message: 'This username is taken.',
  },
  idempotency_key_reused: {
    status: 422,
    message: 'This Idempotency-Key was used with a different request; use a new key.',
  },
  idempotency_in_flight: {
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed; retry shortly.',
  },
  registration_closed: {
    status: 403,
    message: 'This server does not accept new accounts; ask an administrator for an invite.',
  },
  session_expired: {
    status: 410,
    message: 'This relay session expired or was disconnected; create a new session and pair again.',
  },
  session_not_paired: {
    status: 403,
    message: 'This relay session is not paired with a Kakao conversation yet.',
  },
  account_disabled: {
    status: 403,
    message: 'This relay account is disabled; ask the relay operator.',
  },
  callback_missing: {
    status: 410,
    message: 'This message arrived without a Kakao callback URL, so it cannot be answered.',
  },
  callback_expired: {
    status: 410,
    message: 'The Kakao callback URL of this message has expired; answer the next message.',
  },
  callback_used: {
    status: 409,
    message: 'This message was answered already; a Kakao callback URL can be used only once.',
  },
  callback_failed: {
    status: 502,
    message: 'Kakao did not accept the reply; see the message for what it answered.',
  },
  too_many_pairing_codes: {
    status: 429,
    message: 'This account has 5 active pairing codes; use or let one expire first.',
  },
  csrf_failed: {
    status: 403,
    message: 'Missing or wrong X-CSRF-Token header; send the value of the csrf_token cookie.',
  },
  internal_error: {
    status: 500,
    message: 'An unexpected error occurred; it has been logged with the request id.',
  },
  database_unavailable: {
    status: 503,
    message: 'The database is unreachable; retry shortly.',
  },
  broker_unavailable: {
    status: 503,
    message: 'The message broker is unreachable; retry shortly.',
  },
  not_ready: {
    status: 503,
    message: 'The server is not ready to serve requests.',
  },
  shutting_down: {
    status: 503,
    message: 'The server is shutting down; reconnect to another instance.',
  },
} as const satisfies Record<string, ErrorDefinition>;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof errorCatalogue;

/** The JSON body of every HTTP error response. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: unknown;
  };
}

/** Returns true when `code` is a known catalogue code. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCatalogue, code);
}

/** Builds the standard error body, falling back to the catalogue's message. */
export function errorBody(code: ErrorCode, message?: string, details?: unknown): ErrorBody {
  const body: ErrorBody = { error: { code, message: message ?? errorCatalogue[code].message } };
  if (details !== undefined) body.error.details = details;
  return body;
}
