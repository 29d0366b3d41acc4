// Client ops beyond the core's own: modules register handlers (e.g. chat's `send`, `typing`).
import { errorCatalogue, type AnyClientFrame, type ErrorCode } from '@switchboard/protocol';
import type { Connection } from './connection.js';

/** Returns the reply's fields (merged into `{ op, id, success: true }`), or nothing. */
export type OpHandler = (
  connection: Connection,
  frame: AnyClientFrame,
) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

export class OpRegistry {
  private readonly handlers = new Map<string, OpHandler>();
  private static readonly reserved = new Set([
    'auth',
    'subscribe',
    'unsubscribe',
    'resume',
    'ping',
  ]);

  register(op: string, handler: OpHandler): void {
    if (OpRegistry.reserved.has(op) || this.handlers.has(op)) {
      throw new Error(`op ${op} is taken`);
    }
    this.handlers.set(op, handler);
  }

  get(op: string): OpHandler | undefined {
    return this.handlers.get(op);
  }
}

/** Thrown by an op handler to answer `{ op: "error", id, code, message }` instead of success. */
export class OpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
  ) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'OpError';
  }
}
