// Per-topic ordering on the client: the last seq the application saw on each topic, events that
// arrived ahead of a missing one (held until the gap is filled), and duplicates dropped. This is
// what makes "every event exactly once, in order" hold across reconnects and lost frames.
import type { EventFrame } from '@switchboard/protocol';

/** What the tracker decided about one incoming event. */
export interface TrackResult {
  /** Events to hand to the application now, in order (possibly none, possibly several). */
  deliver: EventFrame[];
  /** Set when events are missing: the topic and the last seq delivered before the gap. */
  gap?: { topic: string; after: number };
}

/** Tracks delivered positions per topic and reorders events around gaps. */
export class SeqTracker {
  private readonly last = new Map<string, number>();
  private readonly held = new Map<string, Map<number, EventFrame>>();

  /** @param maxHeld - events held per topic while a gap is open; beyond it the oldest go. */
  constructor(private readonly maxHeld = 10_000) {}

  /** Takes one event from the wire and says what to deliver. */
  accept(frame: EventFrame): TrackResult {
    const { topic, seq } = frame;
    if (seq === undefined) return { deliver: [frame] };
    const last = this.last.get(topic);
    if (last === undefined || seq === last + 1) {
      this.last.set(topic, seq);
      return { deliver: [frame, ...this.drain(topic)] };
    }
    if (seq <= last) return { deliver: [] };
    let held = this.held.get(topic);
    if (!held) this.held.set(topic, (held = new Map<number, EventFrame>()));
    held.set(seq, frame);
    if (held.size > this.maxHeld) held.delete(Math.min(...held.keys()));
    return { deliver: [], gap: { topic, after: last } };
  }

  /**
   * History no longer covers the gap: continue after `latest`. Held events at or before it are
   * dropped (the application refetches that state); later ones are delivered if contiguous.
   */
  resync(topic: string, latest: number): TrackResult {
    this.last.set(topic, latest);
    const held = this.held.get(topic);
    if (held) for (const seq of held.keys()) if (seq <= latest) held.delete(seq);
    const deliver = this.drain(topic);
    const gap = this.gapAfter(topic);
    return gap === undefined ? { deliver } : { deliver, gap: { topic, after: gap } };
  }

  /** Sets the starting position of a topic the client has not seen events on yet. */
  baseline(topic: string, seq: number): TrackResult {
    if (this.last.has(topic)) return { deliver: [] };
    this.last.set(topic, seq);
    const held = this.held.get(topic);
    if (held) for (const s of held.keys()) if (s <= seq) held.delete(s);
    return { deliver: this.drain(topic) };
  }

  /** The last seq the application saw on a topic. */
  position(topic: string): number | undefined {
    return this.last.get(topic);
  }

  /** Every known position, as sent in `subscribe.positions` or an SSE cursor. */
  positions(): Map<string, number> {
    return new Map(this.last);
  }

  /** When events are held on a topic, the last seq before the missing one. */
  gapAfter(topic: string): number | undefined {
    const held = this.held.get(topic);
    return held && held.size > 0 ? this.last.get(topic) : undefined;
  }

  /** Topics with a gap still open. */
  gaps(): string[] {
    return [...this.held].filter(([, held]) => held.size > 0).map(([topic]) => topic);
  }

  /** Stops tracking a topic (after unsubscribing). */
  forget(topic: string): void {
    this.last.delete(topic);
    this.held.delete(topic);
  }

  private drain(topic: string): EventFrame[] {
    const held = this.held.get(topic);
    const out: EventFrame[] = [];
    if (!held) return out;
    let last = this.last.get(topic) ?? 0;
    for (let next = held.get(last + 1); next; next = held.get(last + 1)) {
      held.delete(last + 1);
      out.push(next);
      last += 1;
    }
    this.last.set(topic, last);
    if (held.size === 0) this.held.delete(topic);
    return out;
  }
}
