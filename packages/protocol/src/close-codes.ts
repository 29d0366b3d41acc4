/**
 * WebSocket close codes used by the gateway. 1000–1015 are the RFC 6455 codes the server sends;
 * 4000–4999 are Switchboard's own. `resumable` tells a client whether to reconnect and resume.
 */
export const closeCodes = {
  normal: { code: 1000, resumable: false, reason: 'closing normally' },
  going_away: { code: 1001, resumable: true, reason: 'server going away' },
  protocol_error: { code: 1002, resumable: false, reason: 'protocol error' },
  message_too_big: { code: 1009, resumable: true, reason: 'frame larger than the limit' },
  internal_error: { code: 1011, resumable: true, reason: 'internal error' },
  unauthorized: { code: 4001, resumable: false, reason: 'authentication failed' },
  auth_timeout: { code: 4002, resumable: false, reason: 'no auth frame in time' },
  forbidden: { code: 4003, resumable: false, reason: 'forbidden' },
  invalid_frame: { code: 4004, resumable: false, reason: 'invalid frame' },
  pong_timeout: { code: 4005, resumable: true, reason: 'no pong in time' },
  rate_limited: { code: 4006, resumable: true, reason: 'too many frames' },
  token_expired: { code: 4007, resumable: true, reason: 'token expired; reconnect with a new one' },
  slow_consumer: { code: 4008, resumable: true, reason: 'outgoing buffer full; resume' },
  going_away_reconnect: {
    code: 4009,
    resumable: true,
    reason: 'server shutting down; reconnect elsewhere',
  },
  too_many_connections: { code: 4010, resumable: true, reason: 'connection limit reached' },
} as const satisfies Record<string, { code: number; resumable: boolean; reason: string }>;

/** A named close code. */
export type CloseCodeName = keyof typeof closeCodes;
