// PostgreSQL stores text as UTF-8, which cannot encode half of a UTF-16 surrogate pair: JSON that
// escapes one (`"\ud800"`) parses into a string no statement can store (in a JSON column it fails
// the statement). Such input is refused where it enters (HTTP bodies, WebSocket frames, the Kakao
// webhook) with a clear error. Only an escape can write a lone surrogate (UTF-8 has no bytes for
// one), so text without a `\uD8..`–`\uDF..` escape is never walked.

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const LONE_SURROGATE_MESSAGE =
  'Strings must be well-formed Unicode: the JSON escapes half of a surrogate pair (\\uD800–\\uDFFF) without its other half.';

/** Whether `value`, parsed from the JSON text `json`, holds a string that is not well-formed. */
export function holdsLoneSurrogate(json: string, value: unknown): boolean {
  return SURROGATE_ESCAPE.test(json) && walk(value, 0);
}

function walk(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  // JSON.parse has built the value, so its depth is bounded by the text's; the limit only keeps
  // a pathological nesting from costing a deep recursion here.
  if (typeof value !== 'object' || value === null || depth > 256) return false;
  if (Array.isArray(value)) return value.some((item) => walk(item, depth + 1));
  for (const [key, item] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key) || walk(item, depth + 1)) return true;
  }
  return false;
}
