// Graceful shutdown: on the first SIGTERM/SIGINT run the registered steps in order under one
// deadline, then exit 0; a second signal exits at once.
import type { Logger } from '../observability/index.js';

export interface ShutdownStep {
  readonly name: string;
  run(): Promise<void> | void;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Everything must be done by then; the process exits anyway. */
  timeoutMs: number;
  exit?: (code: number) => void;
}

export class Shutdown {
  private readonly steps: ShutdownStep[] = [];
  private running: Promise<void> | undefined;
  private startup: Promise<unknown> = Promise.resolve();
  private readonly exit: (code: number) => void;

  constructor(private readonly options: ShutdownOptions) {
    this.exit = options.exit ?? ((code) => process.exit(code));
  }

  /** Steps run in the order they were added. */
  add(name: string, run: ShutdownStep['run']): void {
    this.steps.push({ name, run });
  }

  /**
   * A signal that arrives while `startup` is still in progress waits for it, so the steps it
   * registers (closing the database, releasing the data-directory lock) run instead of being cut.
   */
  waitFor(startup: Promise<unknown>): void {
    this.startup = startup.catch(() => undefined);
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Runs every step once, in order; later calls return the same promise. */
  run(reason: string): Promise<void> {
    this.running ??= this.runSteps(reason);
    return this.running;
  }

  private async runSteps(reason: string): Promise<void> {
    const { logger } = this.options;
    logger.info({ reason }, 'shutting down');
    await this.startup;
    for (const step of this.steps) {
      const started = performance.now();
      try {
        await step.run();
        logger.debug(
          { step: step.name, ms: Math.round(performance.now() - started) },
          'shutdown step done',
        );
      } catch (err) {
        logger.error({ err, step: step.name }, 'shutdown step failed; continuing');
      }
    }
    logger.info('shutdown complete');
  }

  /** Wires SIGTERM and SIGINT: first signal drains and exits 0, second exits immediately. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.started) {
        this.options.logger.warn({ signal }, 'second signal: exiting now');
        this.exit(signal === 'SIGINT' ? 130 : 143);
        return;
      }
      const deadline = setTimeout(() => {
        this.options.logger.error(
          { timeoutMs: this.options.timeoutMs },
          'shutdown did not finish in time; exiting anyway',
        );
        this.exit(1);
      }, this.options.timeoutMs);
      deadline.unref();
      void this.run(signal).then(() => {
        clearTimeout(deadline);
        this.exit(0);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}
