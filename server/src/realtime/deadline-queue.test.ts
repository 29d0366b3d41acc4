import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fuzzSeed, prng } from '../test-support/prng.js';
import { DeadlineQueue, MAX_TIMER_MS, type Deadline } from './deadline-queue.js';

interface Item extends Deadline {
  readonly name: string;
}

const item = (name: string): Item => ({ name, dueAt: 0, deadlineSlot: -1 });

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls each item once at its time, in order, on one timer', () => {
    const fired: string[] = [];
    const queue = new DeadlineQueue<Item>((i) => fired.push(`${i.name}@${Date.now()}`));
    const [a, b, c] = [item('a'), item('b'), item('c')];
    queue.schedule(b, 1_000_200);
    queue.schedule(a, 1_000_100);
    queue.schedule(c, 1_000_100);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired.sort()).toEqual(['a@1000100', 'c@1000100']);
    vi.advanceTimersByTime(100);
    expect(fired).toContain('b@1000200');
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect([a.deadlineSlot, b.deadlineSlot, c.deadlineSlot]).toEqual([-1, -1, -1]);
  });

  it('cancels and reschedules, and a deadline already past fires on the next turn', () => {
    const fired: string[] = [];
    const queue = new DeadlineQueue<Item>((i) => fired.push(i.name));
    const [a, b] = [item('a'), item('b')];
    queue.schedule(a, 1_000_050);
    queue.schedule(b, 1_000_060);
    queue.cancel(a);
    queue.cancel(a);
    queue.schedule(b, 1_000_500);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    queue.schedule(a, 0);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(400);
    expect(fired).toEqual(['a', 'b']);
  });

  it('keeps waiting past the longest setTimeout delay', () => {
    const fired: string[] = [];
    const queue = new DeadlineQueue<Item>((i) => fired.push(i.name));
    queue.schedule(item('far'), Date.now() + MAX_TIMER_MS + 1000);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual(['far']);
  });

  it('a callback that throws does not stop later deadlines', () => {
    const fired: string[] = [];
    const queue = new DeadlineQueue<Item>((i) => {
      fired.push(i.name);
      if (i.name === 'bad') throw new Error('boom');
    });
    queue.schedule(item('bad'), 1_000_010);
    queue.schedule(item('good'), 1_000_020);
    expect(() => vi.advanceTimersByTime(10)).toThrow('boom');
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['bad', 'good']);
  });

  it('matches a plain sorted list under random schedules and cancels', () => {
    const seed = fuzzSeed();
    const { next } = prng(seed);
    const fired: string[] = [];
    const queue = new DeadlineQueue<Item>((i) => fired.push(i.name));
    const items = Array.from({ length: 200 }, (_, i) => item(`i${i}`));
    const expected = new Map<Item, number>();
    for (let step = 0; step < 2000; step++) {
      const target = items[Math.floor(next() * items.length)]!;
      if (next() < 0.3) {
        queue.cancel(target);
        expected.delete(target);
      } else {
        const dueAt = 1_000_000 + Math.floor(next() * 10_000);
        queue.schedule(target, dueAt);
        expected.set(target, dueAt);
      }
    }
    expect(queue.size, `seed ${seed}`).toBe(expected.size);
    vi.advanceTimersByTime(10_000);
    const order = [...expected].sort((x, y) => x[1] - y[1]).map(([i]) => i.dueAt);
    expect(
      fired.map((name) => expected.get(items.find((i) => i.name === name)!)),
      `seed ${seed}`,
    ).toEqual(order);
  });
});
