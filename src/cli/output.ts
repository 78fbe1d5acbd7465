import { visible } from './visible-text.js';

/** Machine-readable output: one JSON document on stdout (dates as ISO strings). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Cells are made visible (visible-text.ts): a listing shows what an agent or a prompt wrote, never acts on it. */
export function printTable(headers: string[], rows: string[][]): void {
  console.log(
    formatTable(
      headers,
      rows.map((row) => row.map(visible)),
    ),
  );
}

/** Columns aligned on the widest cell; the last column is not padded. */
export function formatTable(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [headers, ...rows].map(line).join('\n');
}

/** `label  value` lines, aligned; absent values are left out. */
export function printFields(fields: [string, string | number | boolean | null | undefined][]): void {
  const present = fields.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(...present.map(([k]) => k.length));
  for (const [k, v] of present) console.log(`${k.padEnd(width)}  ${visible(String(v))}`);
}

export const time = (d: Date | null | undefined): string => (d ? d.toISOString() : '-');
