import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EnqueueAbandonedError } from '../messages/enqueue.js';
import { answerWithinDeadline } from './deadline.js';
import { CALLBACK_ACK, INTERNAL_ERROR, textResponse } from './replies.js';

describe('answerWithinDeadline', () => {
  it('answers with the work when it finishes in time', async () => {
    const reports: boolean[] = [];
    const answer = await answerWithinDeadline(
      { deadlineMs: 200, outcomeWaitMs: 1000 },
      (mayCommit) => Promise.resolve(mayCommit(() => {}) ? CALLBACK_ACK : textResponse('no')),
      (_error, timedOut) => reports.push(timedOut),
    );
    expect(answer).toEqual(CALLBACK_ACK);
    expect(reports).toEqual([]);
  });

  it('answers the error text at the deadline and refuses a later commit', async () => {
    const reports: boolean[] = [];
    let allowed: boolean | undefined;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const answer = await answerWithinDeadline(
      { deadlineMs: 30, outcomeWaitMs: 1000 },
      async (mayCommit) => {
        await sleep(80);
        allowed = mayCommit(() => {});
        finished();
        if (!allowed) throw new EnqueueAbandonedError();
        return CALLBACK_ACK;
      },
      (_error, timedOut) => reports.push(timedOut),
    );
    expect(answer).toEqual(textResponse(INTERNAL_ERROR));
    await done;
    await sleep(0);
    expect(allowed).toBe(false);
    // The timeout is reported once; the abandoned enqueue is expected, not an error.
    expect(reports).toEqual([true]);
  });

  it('waits for a commit that started before the deadline instead of answering an error', async () => {
    let cancels = 0;
    const answer = await answerWithinDeadline(
      { deadlineMs: 30, outcomeWaitMs: 1000 },
      async (mayCommit) => {
        expect(mayCommit(() => (cancels += 1))).toBe(true);
        await sleep(80); // the statement still running when the deadline fires, and it commits
        return CALLBACK_ACK;
      },
      () => undefined,
    );
    expect(answer).toEqual(CALLBACK_ACK);
    expect(cancels).toBe(1);
  });

  it('cancels a statement still running at the deadline and answers the error text', async () => {
    const reports: boolean[] = [];
    const answer = await answerWithinDeadline(
      { deadlineMs: 30, outcomeWaitMs: 1000 },
      (mayCommit) =>
        new Promise((_resolve, reject) => {
          // A statement stuck behind a lock until it is cancelled.
          mayCommit(() => reject(new Error('canceling statement due to user request')));
        }),
      (_error, timedOut) => reports.push(timedOut),
    );
    expect(answer).toEqual(textResponse(INTERNAL_ERROR));
    expect(reports).toEqual([false]);
  });

  it('answers the error text when neither the statement nor its cancel returns in time', async () => {
    const reports: boolean[] = [];
    let cancels = 0;
    let commit!: () => void;
    const started = Date.now();
    const answer = await answerWithinDeadline(
      { deadlineMs: 30, outcomeWaitMs: 50 },
      (mayCommit) =>
        new Promise((resolve) => {
          // A database that hangs: the statement returns long after Kakao stopped listening.
          mayCommit(() => (cancels += 1));
          commit = () => resolve(CALLBACK_ACK);
        }),
      (_error, timedOut) => reports.push(timedOut),
    );
    expect(answer).toEqual(textResponse(INTERNAL_ERROR));
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(cancels).toBe(1);
    expect(reports).toEqual([true]);
    commit();
    await sleep(0);
    expect(reports).toEqual([true]);
  });

  it('answers the error text when the work fails', async () => {
    const reports: boolean[] = [];
    const answer = await answerWithinDeadline(
      { deadlineMs: 200, outcomeWaitMs: 1000 },
      () => Promise.reject(new Error('database down')),
      (_error, timedOut) => reports.push(timedOut),
    );
    expect(answer).toEqual(textResponse(INTERNAL_ERROR));
    expect(reports).toEqual([false]);
  });
});
