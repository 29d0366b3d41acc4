// Recognises a PostgreSQL unique violation through the drivers' and Drizzle's wrapping (a
// concurrent sign-up with the same email passes the check and fails on the index).

/** The violated unique constraint's name, or undefined when `err` is something else. */
export function uniqueViolationOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 6; depth++) {
    const { code, constraint, cause } = e as {
      code?: string;
      constraint?: string;
      cause?: unknown;
    };
    if (code === '23505') return constraint ?? '';
    e = cause;
  }
  return undefined;
}
