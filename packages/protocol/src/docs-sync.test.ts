// Keeps docs/errors.md in sync with the error catalogue and the WebSocket close codes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { closeCodes } from './close-codes.js';
import { errorCatalogue } from './errors.js';
import { asLine, escapeCell, tableBetweenMarkers } from './test-support/markdown-table.js';

const docPath = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));
const doc = readFileSync(docPath, 'utf8');

interface Table {
  readonly header: string[];
  readonly rows: string[][];
}

/** The table between `<!-- name:start -->` and `<!-- name:end -->`. */
function documentedTable(name: string): Table {
  const lines = tableBetweenMarkers(doc, name, 'docs/errors.md');
  const [header = [], divider = [], ...rows] = lines;
  if (!divider.every((c) => /^:?-+:?$/.test(c)))
    throw new Error(`${name}: second line must be the divider`);
  return { header, rows };
}

/**
 * What is wrong with `documented`, one hint per row: missing, stale (with the row it should be),
 * unknown, or out of order. Empty when the tables agree.
 */
function differences(expected: Table, documented: Table, what: string): string[] {
  const hints: string[] = [];
  if (asLine(documented.header) !== asLine(expected.header)) {
    hints.push(`header should be: ${asLine(expected.header)}`);
  }
  const documentedByName = new Map(documented.rows.map((row) => [row[0], row]));
  const expectedNames = new Set(expected.rows.map((row) => row[0]));
  for (const row of expected.rows) {
    const found = documentedByName.get(row[0]);
    if (!found) hints.push(`missing ${what} ${row[0]}; add: ${asLine(row)}`);
    else if (asLine(found) !== asLine(row)) {
      hints.push(`stale ${what} ${row[0]}: documented ${asLine(found)}; should be ${asLine(row)}`);
    }
  }
  for (const row of documented.rows) {
    if (!expectedNames.has(row[0]))
      hints.push(`${row[0]} is documented but no longer exists; remove it`);
  }
  if (hints.length === 0) {
    const order = (t: Table) => t.rows.map((row) => row[0]).join(', ');
    if (order(documented) !== order(expected))
      hints.push(`rows should be in source order: ${order(expected)}`);
  }
  return hints;
}

const explain = (hints: string[]) => `docs/errors.md is out of date:\n  - ${hints.join('\n  - ')}`;

describe('docs/errors.md', () => {
  it('lists every error code with its HTTP status and message', () => {
    const expected: Table = {
      header: ['Code', 'HTTP status', 'Message'],
      rows: Object.entries(errorCatalogue).map(([code, { status, message }]) => [
        `\`${code}\``,
        String(status),
        escapeCell(message),
      ]),
    };
    const hints = differences(expected, documentedTable('error-codes'), 'error code');
    expect(hints, explain(hints)).toEqual([]);
  });

  it('lists every WebSocket close code with whether it is resumable and its reason', () => {
    const expected: Table = {
      header: ['Name', 'Code', 'Resumable', 'Reason'],
      rows: Object.entries(closeCodes).map(([name, { code, resumable, reason }]) => [
        `\`${name}\``,
        String(code),
        resumable ? 'yes' : 'no',
        escapeCell(reason),
      ]),
    };
    const hints = differences(expected, documentedTable('close-codes'), 'close code');
    expect(hints, explain(hints)).toEqual([]);
  });
});
