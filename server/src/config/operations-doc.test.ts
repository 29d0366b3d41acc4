// Keeps the configuration table in docs/operations.md true to keys.ts: every key, its default,
// what it expects, what it does and whether it is a secret.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  asLine,
  escapeCell,
  tableBetweenMarkers,
} from '../../../packages/protocol/src/test-support/markdown-table.js';
import { configKeys, type ConfigKey, type KeySpec } from './keys.js';

const docPath = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));

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

function documentedRows(): string[][] {
  return tableBetweenMarkers(readFileSync(docPath, 'utf8'), 'config-keys', 'docs/operations.md');
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
