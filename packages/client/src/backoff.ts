// Reconnect delays: exponential growth capped at a maximum, with "full jitter" so a fleet of
// clients dropped at once (a deploy, a node crash) does not come back in lockstep.

/** How reconnect delays grow. */
export interface ReconnectOptions {
  /** Upper bound of the first delay, in milliseconds. Default 500. */
  initialDelayMs?: number;
  /** No delay is longer than this, in milliseconds. Default 30 000. */
  maxDelayMs?: number;
  /** Each attempt multiplies the bound by this. Default 2. */
  factor?: number;
  /**
   * How much of the delay is random, from 0 (none: always the bound) to 1 (full jitter: anywhere
   * between 0 and the bound). Default 1.
   */
  jitter?: number;
}

/** Reconnect options with every default filled in. */
export type ResolvedReconnectOptions = Required<ReconnectOptions>;

/** Fills in the defaults and checks the values. */
export function resolveReconnectOptions(options: ReconnectOptions = {}): ResolvedReconnectOptions {
  const resolved = {
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 1,
  };
  if (!(resolved.initialDelayMs >= 0) || !(resolved.maxDelayMs >= resolved.initialDelayMs)) {
    throw new RangeError('reconnect: need 0 <= initialDelayMs <= maxDelayMs');
  }
  if (!(resolved.factor >= 1)) throw new RangeError('reconnect: factor must be at least 1');
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) {
    throw new RangeError('reconnect: jitter must be between 0 and 1');
  }
  return resolved;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): the bound
 * `min(maxDelayMs, initialDelayMs * factor^attempt)`, of which a `jitter` share is scaled by
 * `random()` (a number in [0, 1)).
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedReconnectOptions,
  random: () => number,
): number {
  const bound = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt);
  return Math.round(bound * (1 - options.jitter * random()));
}
