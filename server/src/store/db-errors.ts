// Recognises PostgreSQL errors by SQLSTATE through the drivers' and Drizzle's wrapping (Drizzle
// puts the driver's error in `cause`).

function* errorChain(err: unknown): Generator<{ code?: string; constraint?: string }> {
  for (let e = err, depth = 0; e && depth < 6; depth++) {
    const error = e as { code?: string; constraint?: string; cause?: unknown };
    yield error;
    e = error.cause;
  }
}

/** The violated unique constraint's name, or undefined when `err` is something else. */
export function uniqueViolation(err: unknown): string | undefined {
  for (const e of errorChain(err)) if (e.code === '23505') return e.constraint ?? '';
  return undefined;
}

/** Deadlock detected or serialization failure: running the transaction again succeeds. */
export function isRetryableConflict(err: unknown): boolean {
  for (const e of errorChain(err)) if (e.code === '40P01' || e.code === '40001') return true;
  return false;
}

/**
 * Text PostgreSQL cannot store: the NUL character, in a text column (22021) or in JSON (22P05).
 * It comes from the caller's input, so it is the caller's error.
 */
export function isUnstorableText(err: unknown): boolean {
  for (const e of errorChain(err)) if (e.code === '22021' || e.code === '22P05') return true;
  return false;
}

export const UNSTORABLE_TEXT_MESSAGE = 'Text cannot contain the NUL character (U+0000).';
