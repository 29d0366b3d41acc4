// The client's error type: server error codes from the catalogue, plus the few conditions that
// only exist on the client side.

/** Codes for failures detected by the client itself rather than reported by the server. */
export type ClientSideCode = 'timeout' | 'disconnected' | 'closed' | 'not_supported' | 'bad_reply';

/** An error with a stable `code`: a server error code (see docs/errors.md) or a {@link ClientSideCode}. */
export class ClientError extends Error {
  override readonly name = 'ClientError';

  /**
   * @param code - the server's error code or a {@link ClientSideCode}
   * @param message - a human-readable description
   */
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
