// JSON from outside must be storable and re-encodable, which JSON.parse alone does not ensure:
// - PostgreSQL stores text as UTF-8, which cannot encode half of a UTF-16 surrogate pair, so JSON
//   that escapes one (`"\ud800"`) parses into a string no statement can store.
// - JSON.parse takes any depth, but JSON.stringify (every event is encoded again for delivery)
//   and PostgreSQL's JSON parser run out of stack on a few thousand levels.
// Such input is refused where it enters (HTTP bodies, WebSocket frames, the Kakao webhook, gRPC
// event JSON) with a clear error. Both checks look at the text first and walk nothing when it
// cannot hold the problem: only an escape can write a lone surrogate (UTF-8 has no bytes for
// one), and nesting deeper than the limit takes at least twice as many characters.

/** Deepest nesting of objects and arrays accepted, far beyond any real payload. */
export const MAX_JSON_DEPTH = 64;

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `value`, parsed from the JSON text `json`, cannot be taken; undefined when it can. */
export function jsonInputProblem(json: string, value: unknown): string | undefined {
  if (json.length > 2 * MAX_JSON_DEPTH && nestsTooDeep(json)) {
    return `JSON may nest objects and arrays at most ${MAX_JSON_DEPTH} levels deep.`;
  }
  if (SURROGATE_ESCAPE.test(json) && holdsLoneSurrogate(value)) {
    return 'Strings must be well-formed Unicode: the JSON escapes half of a surrogate pair (\\uD800–\\uDFFF) without its other half.';
  }
  return undefined;
}

/** Counts brackets outside strings: valid JSON text (it has been parsed) needs no more. */
function nestsTooDeep(json: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // the escaped character cannot end the string
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Called only on values no deeper than MAX_JSON_DEPTH, so the recursion is bounded. */
function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  for (const [key, item] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key) || holdsLoneSurrogate(item)) return true;
  }
  return false;
}
