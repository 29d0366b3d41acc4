// An incremental `text/event-stream` parser (the WHATWG algorithm): feed it chunks as they
// arrive, get complete events out. Used with fetch streaming, where no EventSource parses for us.

/** One dispatched server-sent event. */
export interface SseMessage {
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  /** The `id:` field of this event, if it had one. */
  id?: string;
}

/** Parses a text/event-stream incrementally. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private sawCr = false;
  /** The last `retry:` value the server sent, in milliseconds. */
  retryMs: number | undefined;

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): SseMessage[] {
    const out: SseMessage[] = [];
    let chunk = text;
    // A CRLF split across chunks: the LF was already taken as the end of the line.
    if (this.sawCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.sawCr = chunk.endsWith('\r');
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const match = /\r\n|\r|\n/g;
      match.lastIndex = start;
      const found = match.exec(this.buffer);
      if (!found) break;
      this.line(this.buffer.slice(start, found.index), out);
      start = found.index + found[0].length;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        const message: SseMessage = { event: this.event || 'message', data: this.data.join('\n') };
        if (this.id !== undefined) message.id = this.id;
        out.push(message);
      }
      this.event = '';
      this.data = [];
      this.id = undefined;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
  }
}
