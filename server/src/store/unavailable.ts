// Recognises "the database is not there" among the many shapes drivers use to say it.

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

// SQLSTATEs: class 08 connection exceptions, shutdowns, too many connections, pgbouncer's own.
const unavailableSqlStates = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

const unavailableMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'connection is closed',
  'server conn crashed',
  'no more connections allowed',
  'database unavailable',
];

/** Thrown by our own code when a check fails because the database cannot be reached. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** True when the error (or anything in its cause chain) says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 6; depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
    if (typeof e !== 'object') return false;
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (networkCodes.has(code) || unavailableSqlStates.has(code))) {
      return true;
    }
    if (typeof message === 'string' && unavailableMessages.some((m) => message.includes(m))) {
      return true;
    }
    e = cause;
  }
  return false;
}
