import type { RelayContext } from '../context.js';

/** Starts the relay clean-up jobs; returns their stop. */
export function scheduleRelayCleanup(ctx: RelayContext): () => Promise<void> {
  void ctx;
  return () => Promise.resolve();
}
