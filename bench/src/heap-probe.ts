// Preloaded into a server under memory measurement (`node --expose-gc --import tsx --import
// bench/src/heap-probe.ts …`): over the IPC channel the parent asks for the heap after full
// collections, or for a heap snapshot, without the server knowing anything about it.
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';

export interface HeapReading {
  /** V8 heap in use after full collections (JS objects, closures, strings). */
  readonly heapUsed: number;
  /** Memory outside the V8 heap held by JS objects (Buffers, sockets' native state). */
  readonly external: number;
  readonly arrayBuffers: number;
  readonly rss: number;
}

export type ProbeAsk =
  { readonly probe: 'measure' } | { readonly probe: 'snapshot'; readonly path: string };

export type ProbeRequest = ProbeAsk & { readonly id: number };

export type ProbeReply =
  | { readonly probe: 'measured'; readonly id: number; readonly reading: HeapReading }
  | { readonly probe: 'snapshotted'; readonly id: number; readonly path: string };

const gc = (globalThis as { gc?: () => void }).gc;

/** Collects until the heap stops shrinking (weak maps and finalizers may take more than one). */
async function collect(): Promise<void> {
  if (!gc) throw new Error('the heap probe needs node --expose-gc');
  let previous = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round++) {
    gc();
    // Lets pending finalization callbacks and microtasks that drop references run.
    await new Promise((resolve) => setImmediate(resolve));
    const used = getHeapStatistics().used_heap_size;
    if (used >= previous - 1024) return;
    previous = used;
  }
}

async function answer(request: ProbeRequest): Promise<ProbeReply> {
  await collect();
  if (request.probe === 'snapshot') {
    return { probe: 'snapshotted', id: request.id, path: writeHeapSnapshot(request.path) };
  }
  const usage = process.memoryUsage();
  return {
    probe: 'measured',
    id: request.id,
    reading: {
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      rss: usage.rss,
    },
  };
}

if (process.send) {
  process.on('message', (message: ProbeRequest) => {
    if (typeof message !== 'object' || message === null || !('probe' in message)) return;
    void answer(message).then((reply) => process.send?.(reply));
  });
  // The channel alone must not keep the server alive once it shuts down.
  process.channel?.unref();
}
