// Marks inbound messages `delivered` once they were written to an agent stream. Ids gathered
// within 50 ms share one UPDATE (at a steady 300 messages/s a 5 ms window left most alone in
// theirs: a statement and a commit each), and only `queued` rows change: an acked or expired
// message keeps its state.
import { and, eq, sql } from 'drizzle-orm';
import type { Logger } from '../../observability/index.js';
import { arrayLiteral, type Database } from '../../store/index.js';
import { inboundMessages } from '../schema.js';

const GATHER_MS = 50;
const MAX_IDS_PER_UPDATE = 1000;

export class DeliveredMarker {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  mark(messageId: string): void {
    this.pending.add(messageId);
    this.schedule();
  }

  /** Writes every pending mark now (shutdown, tests). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running) await this.running;
    if (this.pending.size > 0) await this.run();
  }

  private schedule(): void {
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => void this.run(), GATHER_MS);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    const ids = [...this.pending].slice(0, MAX_IDS_PER_UPDATE);
    for (const id of ids) this.pending.delete(id);
    this.running = this.update(ids);
    await this.running;
    this.running = undefined;
    if (this.pending.size > 0) this.schedule();
  }

  private async update(ids: readonly string[]): Promise<void> {
    try {
      await this.db
        .update(inboundMessages)
        .set({ status: 'delivered', deliveredAt: new Date(this.now()) })
        .where(
          and(
            sql`${inboundMessages.id} = any(${arrayLiteral(ids)}::uuid[])`,
            eq(inboundMessages.status, 'queued'),
          ),
        );
    } catch (err) {
      // The rows stay queued: the agent's next fresh connect or long-poll gets them again.
      this.log.warn({ err, count: ids.length }, 'could not mark messages delivered');
    }
  }
}
