// A minimal test SSE client over fetch streaming that records events and waits for them
// explicitly, like ws-client.ts does for sockets. Server events carry one `data:` line each.

export interface SseRecord {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

export interface TestStream {
  status: number;
  records: SseRecord[];
  /** Resolves with the first recorded event that matches. */
  next(match: (r: SseRecord) => boolean, timeoutMs?: number): Promise<SseRecord>;
  /** The `id` of the last event that had one (what a browser sends as Last-Event-ID). */
  lastEventId(): string | undefined;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens `GET url` as an event stream; refused streams resolve with their status and no records. */
export async function openSse(url: string, headers: Record<string, string>): Promise<TestStream> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const records: SseRecord[] = [];
  const waiters: Array<() => void> = [];
  let done = false;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const ended = (async () => {
    if (!res.ok || !res.body) {
      done = true;
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue; // comments (`: ping`) and blank lines
            fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          const data = fields.get('data');
          if (data === undefined) continue;
          const record: SseRecord = {
            event: fields.get('event') ?? 'message',
            data: JSON.parse(data) as Record<string, unknown>,
          };
          const id = fields.get('id');
          if (id !== undefined) record.id = id;
          records.push(record);
        }
        wake();
      }
    } catch {
      // Aborted by close().
    } finally {
      done = true;
      wake();
    }
  })();
  return {
    status: res.status,
    records,
    ended,
    async next(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = records.find(match);
        if (found) return found;
        if (Date.now() > deadline || done) {
          throw new Error(`no matching SSE event; got ${JSON.stringify(records).slice(0, 2000)}`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
      }
    },
    lastEventId: () => records.findLast((r) => r.id !== undefined)?.id,
    close: () => controller.abort(),
  };
}
