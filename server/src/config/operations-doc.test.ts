// Keeps the configuration table in docs/operations.md true to keys.ts: every key, its default,
// what it expects, what it does and whether it is a secret.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configKeys, type ConfigKey, type KeySpec } from './keys.js';

const docPath = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));
const startMarker = '<!-- config-keys:start -->';
const endMarker = '<!-- config-keys:end -->';

const allKeys = Object.keys(configKeys) as ConfigKey[];
const specOf = (key: ConfigKey) => configKeys[key] as KeySpec;

function renderDefault(key: ConfigKey): string {
  const value: unknown = specOf(key).schema.safeParse(undefined).data;
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return `\`${value.join(',')}\``;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return `\`${String(value)}\``;
  }
  return `\`${JSON.stringify(value)}\``;
}

const escapeCell = (text: string) => text.replaceAll('|', '\\|');

/** The table row keys.ts says a key should have, as cells. */
function expectedRow(key: ConfigKey): string[] {
  const spec = specOf(key);
  return [
    `\`${key}\``,
    renderDefault(key),
    escapeCell(spec.expected),
    escapeCell(spec.doc),
    spec.secret ?? 'no',
  ];
}

const header = ['Key', 'Default', 'Expected', 'Description', 'Secret'];

/** Splits `| a | b \| c |` into trimmed cells, keeping escaped pipes inside a cell. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

const asLine = (row: string[]) => `| ${row.join(' | ')} |`;

function documentedRows(): string[][] {
  const text = readFileSync(docPath, 'utf8');
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start) {
    throw new Error(`docs/operations.md needs the table between ${startMarker} and ${endMarker}`);
  }
  return text
    .slice(start + startMarker.length, end)
    .split('\n')
    .filter((l) => l.trim().startsWith('|'))
    .map(cells);
}

describe('docs/operations.md configuration table', () => {
  const rows = documentedRows();
  const [head, divider, ...body] = rows;
  const byKey = new Map(body.map((row) => [row[0]?.replaceAll('`', '') ?? '', row]));
  const fullTable = [
    asLine(header),
    asLine(header.map(() => '---')),
    ...allKeys.map((k) => asLine(expectedRow(k))),
  ].join('\n');

  it('has the expected columns', () => {
    expect(head).toEqual(header);
    expect(divider?.every((c) => /^:?-+:?$/.test(c))).toBe(true);
  });

  it('lists every key in configKeys, in the same order', () => {
    const missing = allKeys.filter((k) => !byKey.has(k));
    expect(missing, `add these rows (the whole table is):\n${fullTable}`).toEqual([]);
    const stale = [...byKey.keys()].filter((k) => !(k in configKeys));
    expect(stale, 'these keys are not in server/src/config/keys.ts').toEqual([]);
    expect(body.map((row) => row[0]?.replaceAll('`', ''))).toEqual(allKeys);
  });

  it.each(allKeys)('documents %s as keys.ts defines it', (key) => {
    const row = byKey.get(key);
    if (!row) return; // reported by the test above
    const expected = expectedRow(key);
    expect(row[1], `${key}: default differs; the row should be\n${asLine(expected)}`).toBe(
      expected[1],
    );
    expect(row, `${key}: row differs from keys.ts; it should be\n${asLine(expected)}`).toEqual(
      expected,
    );
  });
});
