// Many deadlines on one timer (the token expiry of every socket): a binary min-heap of items by
// due time, the timer armed for the earliest. A Timeout per socket costs about 200 bytes of heap
// (the Timeout, and a timer list of its own, as every socket's delay differs); an item here costs
// a heap slot and two numbers.

/** Bookkeeping the queue keeps on each item, so cancelling needs no search. */
export interface Deadline {
  /** When the item is due (ms since the epoch); meaningful while scheduled. */
  dueAt: number;
  /** The item's index in the heap, or -1 when it is not scheduled. */
  deadlineSlot: number;
}

/** setTimeout cannot wait longer than this (~24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class DeadlineQueue<T extends Deadline> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    /** Called once per item when its time has come; the item is no longer scheduled. */
    private readonly onDue: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Schedules the item at `dueAt`, replacing any earlier schedule of it. */
  schedule(item: T, dueAt: number): void {
    if (item.deadlineSlot >= 0) this.removeAt(item.deadlineSlot);
    item.dueAt = dueAt;
    item.deadlineSlot = this.heap.length;
    this.heap.push(item);
    this.siftUp(item.deadlineSlot);
    this.arm();
  }

  cancel(item: T): void {
    if (item.deadlineSlot < 0) return;
    this.removeAt(item.deadlineSlot);
    this.arm();
  }

  get size(): number {
    return this.heap.length;
  }

  /** Forgets every item and stops the timer. */
  clear(): void {
    for (const item of this.heap) item.deadlineSlot = -1;
    this.heap.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    const first = this.heap[0];
    if (first?.dueAt === this.armedFor) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (!first) return;
    this.armedFor = first.dueAt;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, first.dueAt - this.now()));
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    const due: T[] = [];
    for (let first = this.heap[0]; first && first.dueAt <= now; first = this.heap[0]) {
      this.removeAt(0);
      due.push(first);
    }
    // Re-armed before the callbacks run, so one that throws cannot stop the later deadlines.
    this.arm();
    for (const item of due) this.onDue(item);
  }

  private removeAt(slot: number): void {
    const heap = this.heap;
    const removed = heap[slot];
    const last = heap.pop();
    if (removed) removed.deadlineSlot = -1;
    if (!last || last === removed) return;
    heap[slot] = last;
    last.deadlineSlot = slot;
    this.siftDown(slot);
    this.siftUp(last.deadlineSlot);
  }

  private siftUp(slot: number): void {
    const heap = this.heap;
    const item = heap[slot]!;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot]!;
      if (parent.dueAt <= item.dueAt) break;
      heap[slot] = parent;
      parent.deadlineSlot = slot;
      slot = parentSlot;
    }
    heap[slot] = item;
    item.deadlineSlot = slot;
  }

  private siftDown(slot: number): void {
    const heap = this.heap;
    const item = heap[slot]!;
    const length = heap.length;
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.dueAt < heap[left]!.dueAt ? right : left;
      const next = heap[child]!;
      if (next.dueAt >= item.dueAt) break;
      heap[slot] = next;
      next.deadlineSlot = slot;
      slot = child;
    }
    heap[slot] = item;
    item.deadlineSlot = slot;
  }
}
