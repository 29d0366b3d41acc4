/**
 * Server-Sent Events framing. Each event is `id:`, `event:` and exactly one `data:` line of JSON,
 * separated by a blank line, so the most minimal parsers work. The `id` is a cursor that resumes
 * through the browser's own `Last-Event-ID` reconnect.
 */

/** Heartbeat comment sent on idle streams. */
export const SSE_PING = ': ping\n\n';

/** How long a client should wait before reconnecting, in milliseconds. */
export const SSE_RETRY_MS = 3000;

/**
 * Encodes positions on several topics as one SSE id: `topic=seq` pairs joined by `,`
 * (topic names never contain `=` or `,`). A single-topic stream uses the bare seq.
 */
export function encodeCursor(positions: ReadonlyMap<string, number>, singleTopic?: string): string {
  if (singleTopic !== undefined) return String(positions.get(singleTopic) ?? 0);
  return [...positions].map(([topic, seq]) => `${topic}=${seq}`).join(',');
}

/** Decodes a cursor made by `encodeCursor`; returns undefined when it is malformed. */
export function decodeCursor(
  cursor: string,
  singleTopic?: string,
): Map<string, number> | undefined {
  const trimmed = cursor.trim();
  if (singleTopic !== undefined) {
    if (!/^\d{1,15}$/.test(trimmed)) return undefined;
    return new Map([[singleTopic, Number(trimmed)]]);
  }
  const positions = new Map<string, number>();
  if (trimmed === '') return positions;
  for (const pair of trimmed.split(',')) {
    const match = /^([\w.:@-]{1,200})=(\d{1,15})$/.exec(pair);
    if (!match) return undefined;
    positions.set(match[1]!, Number(match[2]));
  }
  return positions;
}

/** One SSE event block. `data` must be a single line (JSON.stringify output is). */
export function sseEvent(type: string, data: string, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${data}\n\n`;
}
