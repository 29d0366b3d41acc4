// The search box language, as Slack users know it: free words, "quoted phrases", -excluded
// words, and filters `in:` `from:` `before:` `after:` `on:` `has:`. Parsing is pure; what the
// parts mean in SQL is the search command's business.
import { AppError } from '../../http/index.js';

export const HAS_VALUES = ['link', 'pin', 'thread', 'reaction', 'mention'] as const;
export type HasFilter = (typeof HAS_VALUES)[number];

export interface ParsedQuery {
  /** Words and phrases a message must all contain (case-insensitive). */
  readonly terms: string[];
  /** Words and phrases a message must not contain. */
  readonly excluded: string[];
  /** Channel names (without `#`, lowercased) or ids; any of them. */
  readonly in: string[];
  /** Usernames (without `@`, lowercased) or user ids; any of them. */
  readonly from: string[];
  /** Messages created before this instant (the start of the given UTC day). */
  readonly before: Date | undefined;
  /** Messages created from this instant on (the day after the given UTC day). */
  readonly after: Date | undefined;
  readonly has: HasFilter[];
}

export const MAX_TERMS = 10;
const DAY_MS = 86_400_000;

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly negated: boolean;
}

/** Splits on whitespace, keeping "quoted phrases" (also after `key:` or `-`) together. */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    while (i < input.length && /\s/.test(input[i]!)) i++;
    if (i >= input.length) break;
    let negated = false;
    if (input[i] === '-' && i + 1 < input.length && !/\s/.test(input[i + 1]!)) {
      negated = true;
      i++;
    }
    let text = '';
    let quoted = false;
    while (i < input.length && !/\s/.test(input[i]!)) {
      if (input[i] === '"') {
        // A phrase runs to the next quote (or the end, when it is never closed).
        const close = input.indexOf('"', i + 1);
        const end = close === -1 ? input.length : close;
        text += input.slice(i + 1, end);
        quoted = true;
        i = end + 1;
      } else {
        text += input[i];
        i++;
      }
    }
    tokens.push({ text, quoted, negated });
  }
  return tokens;
}

function parseDay(key: string, value: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  const date = new Date(time);
  if (!match || Number.isNaN(time) || date.toISOString().slice(0, 10) !== value) {
    throw new AppError('invalid_request', `q: ${key}: expects a date as YYYY-MM-DD`);
  }
  return date;
}

const latest = (a: Date | undefined, b: Date) => (a && a > b ? a : b);
const earliest = (a: Date | undefined, b: Date) => (a && a < b ? a : b);

export function parseSearchQuery(input: string): ParsedQuery {
  const terms: string[] = [];
  const excluded: string[] = [];
  const inChannels: string[] = [];
  const from: string[] = [];
  const has: HasFilter[] = [];
  let before: Date | undefined;
  let after: Date | undefined;
  for (const token of tokenize(input)) {
    const filter = token.negated ? null : /^(in|from|before|after|on|has):(.*)$/is.exec(token.text);
    // `key:` with a quoted value was joined by the tokenizer; `https://…` is not a filter.
    if (filter && filter[2] !== '') {
      const key = filter[1]!.toLowerCase();
      const value = filter[2]!.trim();
      switch (key) {
        case 'in':
          inChannels.push(value.replace(/^#/, '').toLowerCase());
          break;
        case 'from':
          from.push(value.replace(/^@/, '').toLowerCase());
          break;
        case 'before':
          before = earliest(before, parseDay(key, value));
          break;
        case 'after':
          after = latest(after, new Date(parseDay(key, value).getTime() + DAY_MS));
          break;
        case 'on': {
          const day = parseDay(key, value);
          after = latest(after, day);
          before = earliest(before, new Date(day.getTime() + DAY_MS));
          break;
        }
        case 'has': {
          const what = value.toLowerCase() as HasFilter;
          if (!HAS_VALUES.includes(what)) {
            throw new AppError(
              'invalid_request',
              `q: has: expects one of ${HAS_VALUES.join(', ')}`,
            );
          }
          if (!has.includes(what)) has.push(what);
          break;
        }
      }
      continue;
    }
    const text = token.quoted ? token.text.trim().replace(/\s+/g, ' ') : token.text;
    if (!text) continue;
    (token.negated ? excluded : terms).push(text);
  }
  if (terms.length + excluded.length > MAX_TERMS) {
    throw new AppError('invalid_request', `q: at most ${MAX_TERMS} words and phrases`);
  }
  return { terms, excluded, in: inChannels, from, before, after, has };
}

/** Whether the query narrows anything down: an empty one would list every readable message. */
export function hasCriteria(query: ParsedQuery): boolean {
  return (
    query.terms.length > 0 ||
    query.in.length > 0 ||
    query.from.length > 0 ||
    query.before !== undefined ||
    query.after !== undefined ||
    query.has.length > 0
  );
}
