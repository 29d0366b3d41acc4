// Mention parsing: what counts as a mention and what is code, an email or escaped.
import { describe, expect, it } from 'vitest';
import { parseMentions, withoutCode } from './mentions.js';

describe('parseMentions', () => {
  it('finds usernames, @channel and @here, lowercased and once each', () => {
    expect(parseMentions('hi @Ada and @bob_2, @ada again; @channel (@here)')).toEqual({
      usernames: ['ada', 'bob_2'],
      channel: true,
      here: true,
    });
  });

  it('tries a name without its trailing punctuation as well', () => {
    expect(parseMentions('thanks @ada. and @here!').usernames).toEqual(['ada.', 'ada']);
    expect(parseMentions('@channel.').channel).toBe(true);
  });

  it('ignores emails, escaped @ and single letters', () => {
    expect(parseMentions('mail ada@example.com or \\@bob or @x')).toEqual({
      usernames: [],
      channel: false,
      here: false,
    });
  });

  it('ignores mentions in inline code and fenced code blocks', () => {
    const body = [
      'see `@inline` and ``a ` @double``',
      '```ts',
      '@fenced @channel',
      '```',
      '~~~',
      '@tilde',
      '~~~',
      'after @real',
      '````',
      '@unclosed fence runs to the end',
    ].join('\n');
    expect(parseMentions(body)).toEqual({ usernames: ['real'], channel: false, here: false });
  });

  it('treats an unmatched backtick as text', () => {
    expect(parseMentions('a ` lone @tick').usernames).toEqual(['tick']);
  });

  it('keeps the text length when blanking code', () => {
    const text = 'x `y` z\n```\ncode\n```\nend';
    expect(withoutCode(text)).toHaveLength(text.length);
  });
});
