import { describe, expect, it } from 'vitest';
import { holdsLoneSurrogate } from './well-formed.js';

const check = (json: string) => holdsLoneSurrogate(json, JSON.parse(json));

describe('holdsLoneSurrogate', () => {
  it('finds half of a surrogate pair in values and keys, at any depth', () => {
    expect(check('{"a":"x\\ud800"}')).toBe(true);
    expect(check('{"a":["ok",{"b":"\\uDC00y"}]}')).toBe(true);
    expect(check('{"\\udbff":1}')).toBe(true);
    expect(check('"\\ud800\\ud800"')).toBe(true);
  });

  it('accepts whole pairs, escaped or not, and text without escapes', () => {
    expect(check('{"a":"\\ud83d\\ude00 and 😀"}')).toBe(false);
    expect(check('{"a":"\\u00e9 \\u4e2d"}')).toBe(false);
    expect(check('{"a":"plain","b":[1,null,true]}')).toBe(false);
  });
});
