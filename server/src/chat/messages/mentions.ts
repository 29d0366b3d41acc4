// @mentions in a message's Markdown: `@username`, `@channel` and `@here`, outside code. The
// server parses them (clients cannot be trusted to say whom they notify); the command then keeps
// only usernames of the channel's members.

export interface ParsedMentions {
  /** Lowercased candidate usernames, in order of first appearance. */
  readonly usernames: readonly string[];
  readonly channel: boolean;
  readonly here: boolean;
}

const fenceOpen = /^ {0,3}(`{3,}|~{3,})/;

/** The text with fenced code blocks and inline code spans blanked out (same length). */
export function withoutCode(markdown: string): string {
  const lines = markdown.split('\n');
  let fence: string | undefined;
  const kept = lines.map((line) => {
    if (fence) {
      const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
      if (closing.test(line)) fence = undefined;
      return ' '.repeat(line.length);
    }
    const open = fenceOpen.exec(line);
    // An opening backtick fence's info string may not contain backticks (CommonMark).
    if (open && !(open[1]![0] === '`' && line.slice(open[0].length).includes('`'))) {
      fence = open[1];
      return ' '.repeat(line.length);
    }
    return line;
  });
  return withoutCodeSpans(kept.join('\n'));
}

/** Blanks inline code: a run of n backticks up to the next run of exactly n (CommonMark). */
function withoutCodeSpans(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '`' || (i > 0 && text[i - 1] === '\\')) {
      out += text[i];
      i += 1;
      continue;
    }
    let n = 0;
    while (text[i + n] === '`') n += 1;
    let close = -1;
    for (let j = i + n; j < text.length;) {
      if (text[j] !== '`') {
        j += 1;
        continue;
      }
      let m = 0;
      while (text[j + m] === '`') m += 1;
      if (m === n) {
        close = j;
        break;
      }
      j += m;
    }
    if (close < 0) {
      // No closing run: the backticks are literal text.
      out += text.slice(i, i + n);
      i += n;
      continue;
    }
    out += ' '.repeat(close + n - i);
    i = close + n;
  }
  return out;
}

// `@` must not follow a word character (emails, `a@b`) or a backslash (escaped).
const mention = /(?<![\p{L}\p{N}_.+\-\\`@])@([a-z0-9][a-z0-9._-]{0,31})/giu;

export function parseMentions(markdown: string): ParsedMentions {
  const usernames = new Set<string>();
  let channel = false;
  let here = false;
  for (const match of withoutCode(markdown).matchAll(mention)) {
    const name = match[1]!.toLowerCase();
    // "Thanks @ada." means ada, but usernames may end in punctuation too: try both.
    const trimmed = name.replace(/[._-]+$/, '');
    if (trimmed === 'channel') channel = true;
    else if (trimmed === 'here') here = true;
    else {
      if (name.length >= 2) usernames.add(name);
      if (trimmed.length >= 2 && trimmed !== name) usernames.add(trimmed);
    }
  }
  return { usernames: [...usernames], channel, here };
}
