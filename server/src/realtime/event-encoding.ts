// Serialize-once helpers: an event is JSON-encoded once by its publisher; each node splices the
// topic and seq into that text once per delivery, and every local socket gets the same string.

/** Encodes an event with `type` as its first key, which `eventTypeOf` relies on. */
export function encodeEvent(event: { type: string } & Record<string, unknown>): string {
  const { type, ...rest } = event;
  const body = JSON.stringify(rest);
  const typePart = `{"type":${JSON.stringify(type)}`;
  return body === '{}' ? `${typePart}}` : `${typePart},${body.slice(1)}`;
}

/** The event's type, read from the front of its encoding without parsing the whole payload. */
export function eventTypeOf(data: string): string {
  if (data.startsWith('{"type":"')) {
    const end = data.indexOf('"', 9);
    const type = data.slice(9, end);
    if (end > 9 && !type.includes('\\')) return type;
  }
  const parsed = JSON.parse(data) as { type?: unknown };
  return typeof parsed.type === 'string' ? parsed.type : 'message';
}

/** The WebSocket frame for an event on a topic: `{"op":"event","topic":…,"seq":…,<event fields>}`. */
export function eventFrame(topic: string, seq: number | undefined, data: string): string {
  const head =
    seq === undefined
      ? `{"op":"event","topic":${JSON.stringify(topic)}`
      : `{"op":"event","topic":${JSON.stringify(topic)},"seq":${seq}`;
  return data.length > 2 ? `${head},${data.slice(1)}` : `${head}}`;
}
