import { describe, expect, it } from 'vitest';
import { buildSnippet, MARK_END, MARK_START } from './snippet.js';

describe('search snippets', () => {
  it('escapes everything but the marks', () => {
    expect(buildSnippet('<b>Tom & "Jerry"</b>', ['jerry'], undefined)).toBe(
      '&lt;b&gt;Tom &amp; &quot;<mark>Jerry</mark>&quot;&lt;/b&gt;',
    );
  });

  it('marks every occurrence of every term, merging overlaps', () => {
    expect(buildSnippet('parseHttpRequest http', ['http', 'httpreq'], undefined)).toBe(
      'parse<mark>HttpReq</mark>uest <mark>http</mark>',
    );
  });

  it('takes the fragments ts_headline chose in long bodies', () => {
    const body = `${'x '.repeat(200)}the quokka smiled ${'y '.repeat(200)}`;
    const headline = `… the ${MARK_START}quokka${MARK_END} smiled`;
    expect(buildSnippet(body, ['quokka'], headline)).toBe('… the <mark>quokka</mark> smiled');
  });

  it('cuts a window around a substring match when ts_headline marked nothing', () => {
    const body = `${'前'.repeat(300)}搜索${'后'.repeat(300)}`;
    const snippet = buildSnippet(body, ['搜索'], body.slice(0, 50));
    expect(snippet).toContain('<mark>搜索</mark>');
    expect(snippet.startsWith('… ')).toBe(true);
    expect(snippet.endsWith(' …')).toBe(true);
    expect(snippet.length).toBeLessThan(260);
  });

  it('never lets a body forge the sentinels', () => {
    expect(buildSnippet(`a${MARK_START}b${MARK_END}c`, [], undefined)).toBe('abc');
  });
});
