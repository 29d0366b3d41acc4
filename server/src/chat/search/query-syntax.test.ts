import { describe, expect, it } from 'vitest';
import { AppError } from '../../http/index.js';
import { hasCriteria, parseSearchQuery } from './query-syntax.js';

describe('search query syntax', () => {
  it('splits words, phrases, exclusions and filters', () => {
    const parsed = parseSearchQuery(
      'deploy "release  notes" -draft -"old plan" in:#General from:@Ada has:link has:pin',
    );
    expect(parsed).toMatchObject({
      terms: ['deploy', 'release notes'],
      excluded: ['draft', 'old plan'],
      in: ['general'],
      from: ['ada'],
      has: ['link', 'pin'],
    });
  });

  it('reads dates as UTC days: before is exclusive, after means the following days', () => {
    const parsed = parseSearchQuery('before:2024-03-10 after:2024-03-01');
    expect(parsed.before?.toISOString()).toBe('2024-03-10T00:00:00.000Z');
    expect(parsed.after?.toISOString()).toBe('2024-03-02T00:00:00.000Z');
    const on = parseSearchQuery('on:2024-02-29');
    expect([on.after?.toISOString(), on.before?.toISOString()]).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
  });

  it('keeps URLs, CJK text and unknown prefixes as words', () => {
    expect(parseSearchQuery('https://example.com/a?b=c 회의 foo:bar').terms).toEqual([
      'https://example.com/a?b=c',
      '회의',
      'foo:bar',
    ]);
    expect(parseSearchQuery('"unclosed phrase').terms).toEqual(['unclosed phrase']);
  });

  it('refuses bad dates, unknown has: values and too many terms', () => {
    expect(() => parseSearchQuery('before:2024-02-30')).toThrow(AppError);
    expect(() => parseSearchQuery('after:yesterday')).toThrow(/YYYY-MM-DD/);
    expect(() => parseSearchQuery('has:file')).toThrow(/has:/);
    expect(() => parseSearchQuery('a b c d e f g h i j k')).toThrow(/at most/);
  });

  it('knows when a query narrows nothing down', () => {
    expect(hasCriteria(parseSearchQuery('  ""  '))).toBe(false);
    expect(hasCriteria(parseSearchQuery('-only'))).toBe(false);
    expect(hasCriteria(parseSearchQuery('has:pin'))).toBe(true);
  });
});
