// Rewrites the generated tables in docs/ (configuration keys, error codes) from the source, for
// after adding a key or an error code: `npx tsx scripts/sync-doc-tables.ts`, then Prettier.
import { readFileSync, writeFileSync } from 'node:fs';
import { errorCatalogue } from '../packages/protocol/src/errors.js';
import { asLine, escapeCell } from '../packages/protocol/src/test-support/markdown-table.js';
import { configKeys, type ConfigKey, type KeySpec } from '../server/src/config/keys.js';

function replaceBetween(path: string, name: string, lines: string[]): void {
  const doc = readFileSync(path, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${path} has no ${start} … ${end}`);
  const table = ['', ...lines, ''].join('\n');
  writeFileSync(path, `${doc.slice(0, from + start.length)}\n${table}\n${doc.slice(to)}`);
}

function renderDefault(spec: KeySpec): string {
  const value: unknown = spec.schema.safeParse(undefined).data;
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return `\`${value.join(',')}\``;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return `\`${String(value)}\``;
  }
  return `\`${JSON.stringify(value)}\``;
}

const keyHeader = ['Key', 'Default', 'Expected', 'Description', 'Secret'];
replaceBetween('docs/operations.md', 'config-keys', [
  asLine(keyHeader),
  asLine(keyHeader.map(() => '---')),
  ...(Object.keys(configKeys) as ConfigKey[]).map((key) => {
    const spec = configKeys[key] as KeySpec;
    return asLine([
      `\`${key}\``,
      renderDefault(spec),
      escapeCell(spec.expected),
      escapeCell(spec.doc),
      spec.secret ?? 'no',
    ]);
  }),
]);

const errorHeader = ['Code', 'HTTP status', 'Message'];
replaceBetween('docs/errors.md', 'error-codes', [
  asLine(errorHeader),
  asLine(errorHeader.map(() => '---')),
  ...Object.entries(errorCatalogue).map(([code, { status, message }]) =>
    asLine([`\`${code}\``, String(status), escapeCell(message)]),
  ),
]);
