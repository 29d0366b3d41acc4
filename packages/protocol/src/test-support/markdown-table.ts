// Reads the Markdown tables that docs keep between `<!-- name:start -->` and `<!-- name:end -->`
// markers, so tests can hold documentation to the code it describes.

/** Escapes `|` so text can stand in a table cell. */
export const escapeCell = (text: string) => text.replaceAll('|', '\\|');

/** Splits `| a | b \| c |` into trimmed cells, keeping escaped pipes inside a cell. */
export function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** One table line from its cells. */
export const asLine = (row: readonly string[]) => `| ${row.join(' | ')} |`;

/** Every table line between the markers named `name` in `doc`, as cells (header and divider too). */
export function tableBetweenMarkers(doc: string, name: string, docLabel: string): string[][] {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`${docLabel} needs a table between ${start} and ${end}`);
  }
  return doc
    .slice(from + start.length, to)
    .split('\n')
    .filter((l) => l.trim().startsWith('|'))
    .map(cells);
}
