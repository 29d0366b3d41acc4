// Search snippets: plain text in which the only markup is <mark>…</mark> around matches; all
// else is HTML-escaped, so a client may insert a snippet as HTML without trusting the message.
//
// PostgreSQL's ts_headline picks the fragments of long messages and marks whole-word matches
// between two private-use sentinels; substring matches it cannot see (CJK text, pieces of
// identifiers and URLs) are marked here, on the same text.

/** Sentinels ts_headline puts around its matches; stripped from bodies before it runs. */
export const MARK_START = '\uE000';
export const MARK_END = '\uE001';

/** Bodies up to this many characters are shown whole; longer ones are cut around matches. */
export const SNIPPET_WHOLE_BODY_CHARS = 240;
const WINDOW_BEFORE = 60;
const WINDOW_AFTER = 160;

export const HEADLINE_OPTIONS = [
  `StartSel=${MARK_START}`,
  `StopSel=${MARK_END}`,
  'MaxWords=35',
  'MinWords=15',
  'MaxFragments=2',
  'FragmentDelimiter=" … "',
].join(', ');

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Range = [start: number, end: number];

/** Removes the sentinels, returning the plain text and the ranges they enclosed. */
function takeSentinelMarks(text: string): { plain: string; ranges: Range[] } {
  let plain = '';
  const ranges: Range[] = [];
  let open = -1;
  for (const char of text) {
    if (char === MARK_START) open = plain.length;
    else if (char === MARK_END) {
      if (open >= 0) ranges.push([open, plain.length]);
      open = -1;
    } else plain += char;
  }
  return { plain, ranges };
}

function termRanges(text: string, terms: readonly string[]): Range[] {
  const ranges: Range[] = [];
  for (const term of terms) {
    if (!term) continue;
    const pattern = new RegExp(escapeRegExp(term), 'giu');
    for (const match of text.matchAll(pattern)) {
      ranges.push([match.index, match.index + match[0].length]);
    }
  }
  return ranges;
}

function merge(ranges: Range[]): Range[] {
  const sorted = [...ranges].filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

function render(text: string, ranges: Range[]): string {
  let out = '';
  let at = 0;
  for (const [start, end] of merge(ranges)) {
    out += `${escapeHtml(text.slice(at, start))}<mark>${escapeHtml(text.slice(start, end))}</mark>`;
    at = end;
  }
  return out + escapeHtml(text.slice(at));
}

/** A window of a long body around its first match (or its start), with ellipses where cut. */
function windowAround(body: string, terms: readonly string[]): string {
  const first = termRanges(body, terms).sort((a, b) => a[0] - b[0])[0];
  const center = first ? first[0] : 0;
  let start = Math.max(0, center - WINDOW_BEFORE);
  let end = Math.min(body.length, center + WINDOW_AFTER);
  // Cut at whitespace when there is some nearby, and never inside a surrogate pair.
  const space = body.lastIndexOf(' ', start);
  if (start > 0 && space >= 0 && start - space < 20) start = space + 1;
  const spaceAfter = body.indexOf(' ', end);
  if (end < body.length && spaceAfter >= 0 && spaceAfter - end < 20) end = spaceAfter;
  if (/[\uDC00-\uDFFF]/.test(body[start] ?? '')) start += 1;
  if (/[\uD800-\uDBFF]/.test(body[end - 1] ?? '')) end -= 1;
  return `${start > 0 ? '… ' : ''}${body.slice(start, end).trim()}${end < body.length ? ' …' : ''}`;
}

/**
 * The snippet of one result. `headline` is ts_headline's output for long bodies (undefined for
 * short ones, which are shown whole); when it marked nothing (the match was a substring only
 * trigrams found), a window around the first substring match is shown instead.
 */
export function buildSnippet(
  body: string,
  terms: readonly string[],
  headline: string | undefined,
): string {
  const clean = body.replace(/[\uE000\uE001]/g, '');
  let text: string;
  let ranges: Range[] = [];
  if (clean.length <= SNIPPET_WHOLE_BODY_CHARS) {
    text = clean;
  } else if (headline?.includes(MARK_START)) {
    ({ plain: text, ranges } = takeSentinelMarks(headline));
  } else {
    text = windowAround(clean, terms);
  }
  return render(text, [...ranges, ...termRanges(text, terms)]);
}
