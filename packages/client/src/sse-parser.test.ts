// The text/event-stream parser on chunk boundaries, line endings, comments and fields.
import { sseEvent } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-parser.js';

describe('SseParser', () => {
  it('parses what the server writes, whatever the chunking', () => {
    const text =
      'retry: 3000\n\n: ping\n\n' +
      sseEvent('message.created', '{"op":"event","topic":"a","seq":1}', 'a=1') +
      sseEvent('resync_required', '{"op":"resync_required"}');
    for (let size = 1; size <= text.length; size += 7) {
      const parser = new SseParser();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
      expect(out).toEqual([
        { event: 'message.created', data: '{"op":"event","topic":"a","seq":1}', id: 'a=1' },
        { event: 'resync_required', data: '{"op":"resync_required"}' },
      ]);
      expect(parser.retryMs).toBe(3000);
    }
  });

  it('handles CRLF split across chunks, multi-line data and fields without a value', () => {
    const parser = new SseParser();
    expect(parser.push('data: one\r')).toEqual([]);
    expect(parser.push('\ndata:two\r\n')).toEqual([]);
    expect(parser.push('id\r\n\r\n')).toEqual([{ event: 'message', data: 'one\ntwo', id: '' }]);
    expect(parser.push('event: x\n\n')).toEqual([]); // no data: nothing dispatched
  });
});
