// Client-side ordering: duplicates dropped, events after a gap held until it is filled,
// resync continuing from `latest`.
import type { EventFrame } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { SeqTracker } from './seq-tracker.js';

const ev = (seq: number | undefined, topic = 't'): EventFrame => ({
  op: 'event',
  topic,
  type: 'tick',
  ...(seq === undefined ? {} : { seq }),
});
const seqs = (frames: EventFrame[]) => frames.map((f) => f.seq);

describe('SeqTracker', () => {
  it('delivers in order and drops duplicates', () => {
    const tracker = new SeqTracker();
    expect(seqs(tracker.accept(ev(5)).deliver)).toEqual([5]);
    expect(seqs(tracker.accept(ev(6)).deliver)).toEqual([6]);
    expect(tracker.accept(ev(6)).deliver).toEqual([]);
    expect(tracker.accept(ev(4)).deliver).toEqual([]);
    expect(tracker.position('t')).toBe(6);
  });

  it('holds events after a gap and releases them in order once it is filled', () => {
    const tracker = new SeqTracker();
    tracker.accept(ev(1));
    expect(tracker.accept(ev(4))).toEqual({ deliver: [], gap: { topic: 't', after: 1 } });
    expect(tracker.accept(ev(3)).gap).toEqual({ topic: 't', after: 1 });
    expect(tracker.gapAfter('t')).toBe(1);
    expect(tracker.gaps()).toEqual(['t']);
    expect(seqs(tracker.accept(ev(2)).deliver)).toEqual([2, 3, 4]);
    expect(tracker.gapAfter('t')).toBeUndefined();
    expect(seqs(tracker.accept(ev(4)).deliver)).toEqual([]);
    expect(seqs(tracker.accept(ev(5)).deliver)).toEqual([5]);
  });

  it('passes events without seq straight through', () => {
    const tracker = new SeqTracker();
    expect(tracker.accept(ev(undefined)).deliver).toHaveLength(1);
    expect(tracker.position('t')).toBeUndefined();
  });

  it('on resync drops held events up to latest and goes on after it', () => {
    const tracker = new SeqTracker();
    tracker.accept(ev(1));
    tracker.accept(ev(7));
    tracker.accept(ev(11));
    tracker.accept(ev(12));
    const result = tracker.resync('t', 10);
    expect(seqs(result.deliver)).toEqual([11, 12]);
    expect(result.gap).toBeUndefined();
    expect(tracker.position('t')).toBe(12);
    tracker.accept(ev(15));
    expect(tracker.resync('t', 13).gap).toEqual({ topic: 't', after: 13 });
  });

  it('takes a baseline only for topics it has not seen', () => {
    const tracker = new SeqTracker();
    tracker.accept(ev(3, 'a'));
    tracker.baseline('a', 1);
    expect(tracker.position('a')).toBe(3);
    tracker.accept(ev(9, 'b'));
    expect(tracker.position('b')).toBe(9);
    expect(tracker.baseline('c', 4).deliver).toEqual([]);
    expect(seqs(tracker.accept(ev(5, 'c')).deliver)).toEqual([5]);
    expect(Object.fromEntries(tracker.positions())).toEqual({ a: 3, b: 9, c: 5 });
    tracker.forget('c');
    expect(tracker.position('c')).toBeUndefined();
  });

  it('bounds what it holds', () => {
    const tracker = new SeqTracker(3);
    tracker.accept(ev(1));
    for (const seq of [3, 4, 5, 6]) tracker.accept(ev(seq));
    // 3 was dropped to stay within the bound; filling 2 releases nothing beyond it.
    expect(seqs(tracker.accept(ev(2)).deliver)).toEqual([2]);
    expect(tracker.gapAfter('t')).toBe(2);
  });
});
