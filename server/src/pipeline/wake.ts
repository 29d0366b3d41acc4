// Wakes relay workers as soon as there is work: in-process when the fast path of the same
// process fails, and across processes through PostgreSQL LISTEN/NOTIFY on a direct connection.
import type { Logger } from '../observability/index.js';
import { WAKE_CHANNEL } from './outbox-queries.js';

export class OutboxWake {
  private readonly waiters = new Set<() => void>();
  private listener?: { close(): Promise<void> };

  /** Wakes every waiting worker of this process. */
  poke(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves after `ms`, or earlier on a poke. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /**
   * Listens for NOTIFY on `url`, reconnecting with backoff. The URL must reach PostgreSQL
   * directly: PgBouncer in transaction mode does not keep a LISTEN. Without it workers still
   * poll every interval.
   */
  async listen(url: string, logger: Logger): Promise<void> {
    const { default: pg } = await import('pg');
    let closed = false;
    let client: InstanceType<typeof pg.Client> | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let failures = 0;
    const connect = async () => {
      const next = new pg.Client({ connectionString: url, application_name: 'switchboard:listen' });
      client = next;
      next.on('notification', () => this.poke());
      next.on('error', (err) => {
        logger.warn({ err: { message: err.message } }, 'outbox listen connection lost');
      });
      next.on('end', () => {
        if (!closed && client === next) schedule();
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${WAKE_CHANNEL}`);
        failures = 0;
        // Whatever was notified while disconnected is picked up now.
        this.poke();
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message } }, 'outbox listen failed; retrying');
        await next.end().catch(() => undefined);
        schedule();
      }
    };
    const schedule = () => {
      if (closed || retryTimer) return;
      failures += 1;
      retryTimer = setTimeout(
        () => {
          retryTimer = undefined;
          void connect();
        },
        Math.min(10_000, 250 * 2 ** failures),
      );
      retryTimer.unref();
    };
    this.listener = {
      close: async () => {
        closed = true;
        clearTimeout(retryTimer);
        await client?.end().catch(() => undefined);
      },
    };
    await connect();
  }

  async close(): Promise<void> {
    await this.listener?.close();
    this.poke();
  }
}
