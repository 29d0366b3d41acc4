// Publishes test events the way a node does: the Redis broker with the hub's event encoding and
// history options, so subscribers on every node see exactly what an in-process publish would send.
import { createRedisBroker } from '../../server/src/broker/redis-broker.js';
import type { Broker, HistoryOptions } from '../../server/src/broker/index.js';
import { encodeEvent } from '../../server/src/realtime/event-encoding.js';
import { testLogger } from '../../server/src/test-support/services.js';

/** One acknowledged publish: the event's number in the test and the seq Redis assigned it. */
export interface Acked {
  readonly n: number;
  readonly seq: number;
}

// Enough to keep up with a few thousand events per second on a busy machine.
const MAX_IN_FLIGHT = 200;

export interface StreamReport {
  /** Publishes Redis acknowledged, per topic, in publish order. */
  acked: Map<string, Acked[]>;
  /** Publishes that failed (broker down); their outcome is unknown. */
  failed: number;
  durationMs: number;
}

export interface TestPublisher {
  /** Publishes one event `{ type: 'load.tick', n }`; resolves with its seq. */
  publish(topic: string, n: number): Promise<number>;
  /**
   * Publishes to `topics` in turn at a steady `perSecond` for `durationMs`; failures (broker
   * down) are counted, not thrown. Acknowledged publishes come back in seq order.
   */
  stream(options: {
    topics: readonly string[];
    perSecond: number;
    durationMs: number;
    firstN?: number;
  }): Promise<StreamReport>;
  close(): Promise<void>;
}

export async function createTestPublisher(
  redisUrl: string,
  history: HistoryOptions,
): Promise<TestPublisher> {
  const broker: Broker = await createRedisBroker({
    url: redisUrl,
    logger: testLogger,
    mode: 'perconv',
  });
  const publish = async (topic: string, n: number): Promise<number> => {
    const { seq } = await broker.publish(topic, encodeEvent({ type: 'load.tick', n }), history);
    if (seq === undefined) throw new Error(`publish to ${topic} returned no seq`);
    return seq;
  };
  return {
    publish,
    async stream({ topics, perSecond, durationMs, firstN = 1 }) {
      const outcomes = new Map<string, Array<Promise<Acked | undefined>>>(
        topics.map((t) => [t, []]),
      );
      let failed = 0;
      let inFlight = 0;
      let sent = 0;
      const started = Date.now();
      while (Date.now() - started < durationMs) {
        const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
        // Pipelined on one connection, so Redis still assigns seqs in the order of issue.
        while (sent < due && inFlight < MAX_IN_FLIGHT) {
          const n = firstN + sent;
          const topic = topics[sent % topics.length]!;
          sent += 1;
          inFlight += 1;
          const outcome = publish(topic, n).then(
            (seq) => ({ n, seq }),
            () => {
              failed += 1;
              return undefined;
            },
          );
          outcomes.get(topic)!.push(outcome.finally(() => (inFlight -= 1)));
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const acked = new Map<string, Acked[]>();
      for (const [topic, pending] of outcomes) {
        const done = (await Promise.all(pending)).filter((a): a is Acked => a !== undefined);
        acked.set(
          topic,
          done.sort((a, b) => a.seq - b.seq),
        );
      }
      return { acked, failed, durationMs: Date.now() - started };
    },
    close: () => broker.close(),
  };
}
