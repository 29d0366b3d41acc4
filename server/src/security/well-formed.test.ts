import { describe, expect, it } from 'vitest';
import { jsonInputProblem, MAX_JSON_DEPTH } from './well-formed.js';

const check = (json: string) => jsonInputProblem(json, JSON.parse(json));
const nested = (levels: number, inner = '1') =>
  `${'{"a":'.repeat(levels)}${inner}${'}'.repeat(levels)}`;

describe('jsonInputProblem', () => {
  it('finds half of a surrogate pair in values and keys, at any depth', () => {
    expect(check('{"a":"x\\ud800"}')).toMatch(/surrogate/);
    expect(check('{"a":["ok",{"b":"\\uDC00y"}]}')).toMatch(/surrogate/);
    expect(check('{"\\udbff":1}')).toMatch(/surrogate/);
    expect(check('"\\ud800\\ud800"')).toMatch(/surrogate/);
    expect(check(nested(MAX_JSON_DEPTH - 1, '"\\ud800"'))).toMatch(/surrogate/);
  });

  it('accepts whole pairs, escaped or not, and text without escapes', () => {
    expect(check('{"a":"\\ud83d\\ude00 and 😀"}')).toBeUndefined();
    expect(check('{"a":"\\u00e9 \\u4e2d"}')).toBeUndefined();
    expect(check('{"a":"plain","b":[1,null,true]}')).toBeUndefined();
  });

  it('refuses nesting deeper than the limit, counting brackets outside strings only', () => {
    expect(check(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(check(nested(MAX_JSON_DEPTH + 1))).toMatch(/levels deep/);
    expect(check(`[${'['.repeat(50_000)}${']'.repeat(50_000)}]`)).toMatch(/levels deep/);
    expect(check(JSON.stringify({ text: '{['.repeat(500), quote: '\\"{{{' }))).toBeUndefined();
  });
});
