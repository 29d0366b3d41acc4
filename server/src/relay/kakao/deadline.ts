// Kakao gives up on a skill after 5 s: the webhook answers by its own deadline, and what it
// answers must match what happened to the message.
import { EnqueueAbandonedError } from '../messages/enqueue.js';
import type { WebhookAnswer } from './handle-webhook.js';
import { INTERNAL_ERROR, textResponse } from './replies.js';

/**
 * The handler's answer, or the error text when it fails or is still running at the deadline. The
 * work asks `mayCommit(cancel)` right before it sends the statement that queues (and commits) a
 * message: after the deadline the answer is no, so nothing is queued after the user was told it
 * failed. Once it said yes, the deadline calls `cancel` (a statement stuck behind a lock is
 * cancelled) and waits up to `outcomeWaitMs` more for the statement's outcome: a committed
 * message is never answered with an error, a cancelled one is. A database that answers neither
 * the statement nor the cancel in that time gets the error text too, since Kakao would drop any
 * later answer.
 */
export async function answerWithinDeadline(
  limits: { readonly deadlineMs: number; readonly outcomeWaitMs: number },
  work: (mayCommit: (cancel: () => void) => boolean) => Promise<WebhookAnswer>,
  report: (error: unknown, timedOut: boolean) => void,
): Promise<WebhookAnswer> {
  const { deadlineMs, outcomeWaitMs } = limits;
  // Widened on purpose: `mayCommit` changes it while the race is awaited.
  let state = 'running' as 'running' | 'committing' | 'abandoned';
  let cancelCommit: (() => void) | undefined;
  const mayCommit = (cancel: () => void): boolean => {
    if (state === 'abandoned') return false;
    state = 'committing';
    cancelCommit = cancel;
    return true;
  };
  let timer: NodeJS.Timeout | undefined;
  const after = (ms: number) =>
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
  const running = work(mayCommit);
  try {
    const outcome = await Promise.race([running, after(deadlineMs)]);
    if (outcome !== 'timeout') return outcome;
    if (state === 'committing') {
      cancelCommit?.();
      const settled = await Promise.race([running, after(outcomeWaitMs)]);
      if (settled !== 'timeout') return settled;
      report(
        new Error(
          `the statement neither committed nor was cancelled ${outcomeWaitMs} ms after the deadline`,
        ),
        true,
      );
    } else {
      state = 'abandoned';
      report(new Error(`no answer after ${deadlineMs} ms`), true);
    }
    // What the work does later is logged, not answered.
    running.catch((error: unknown) => {
      if (!(error instanceof EnqueueAbandonedError)) report(error, false);
    });
    return textResponse(INTERNAL_ERROR);
  } catch (error) {
    report(error, false);
    return textResponse(INTERNAL_ERROR);
  } finally {
    clearTimeout(timer);
  }
}
