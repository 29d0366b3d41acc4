// Preloaded into a server under memory measurement (`node --expose-gc --import tsx --import
// bench/src/heap-probe.ts …`): over the IPC channel the parent asks for the heap after full
// collections, for a heap snapshot, or for what was allocated between two asks (garbage
// included), without the server knowing anything about it.
import { Session } from 'node:inspector/promises';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';

export interface HeapReading {
  /** V8 heap in use after full collections (JS objects, closures, strings). */
  readonly heapUsed: number;
  /** Memory outside the V8 heap held by JS objects (Buffers, sockets' native state). */
  readonly external: number;
  readonly arrayBuffers: number;
  readonly rss: number;
}

/** Bytes allocated, by where: a package, a file of the server, a Node.js module. */
export interface AllocationReading {
  readonly totalBytes: number;
  readonly byPlace: Record<string, number>;
}

export type ProbeAsk =
  | { readonly probe: 'measure' }
  | { readonly probe: 'snapshot'; readonly path: string }
  | { readonly probe: 'sample-allocations' }
  | { readonly probe: 'allocations' };

export type ProbeRequest = ProbeAsk & { readonly id: number };

export type ProbeReply =
  | { readonly probe: 'measured'; readonly id: number; readonly reading: HeapReading }
  | { readonly probe: 'snapshotted'; readonly id: number; readonly path: string }
  | { readonly probe: 'sampling'; readonly id: number }
  | { readonly probe: 'allocated'; readonly id: number; readonly reading: AllocationReading };

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

interface SamplingNode {
  callFrame: { url: string };
  selfSize: number;
  children: SamplingNode[];
}

let inspector: Session | undefined;

/** Samples every allocation from now on, also of objects already collected again. */
async function startSampling(): Promise<void> {
  inspector ??= new Session();
  inspector.connect();
  await inspector.post('HeapProfiler.enable');
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

async function stopSampling(): Promise<AllocationReading> {
  if (!inspector) throw new Error('allocation sampling was not started');
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  inspector.disconnect();
  const byPlace: Record<string, number> = {};
  let totalBytes = 0;
  // Each sample goes to the innermost frame with a script: V8 built-ins (Map, Promise.all)
  // count for the code that called them.
  const walk = (node: SamplingNode, place: string) => {
    const here = node.callFrame.url ? placeOf(node.callFrame.url) : place;
    if (node.selfSize > 0) {
      byPlace[here] = (byPlace[here] ?? 0) + node.selfSize;
      totalBytes += node.selfSize;
    }
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, '(V8)');
  return { totalBytes, byPlace };
}

function placeOf(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope = '', name = ''] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const server = url.indexOf('/server/');
  if (server >= 0) return url.slice(server + 1).replace(/^server\/(dist|src)\//, 'server/');
  return url.replace(/^node:(internal\/)?/, 'node:').replace(/^(node:[^/]+).*$/, '$1');
}

async function answer(request: ProbeRequest): Promise<ProbeReply> {
  if (request.probe === 'sample-allocations') {
    await startSampling();
    return { probe: 'sampling', id: request.id };
  }
  if (request.probe === 'allocations') {
    return { probe: 'allocated', id: request.id, reading: await stopSampling() };
  }
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
