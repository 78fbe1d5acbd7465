/**
 * Agent output is stored capped: Postgres rows stay small and the tail of a runaway log never
 * crowds out the table. The marker says how much was dropped so nobody mistakes it for the whole.
 */
export function capOutput(output: string, maxBytes: number, totalBytes?: number): { text: string; truncated: boolean; bytes: number } {
  const clean = storableOutput(output);
  const buf = Buffer.from(clean, 'utf8');
  const bytes = Math.max(totalBytes ?? 0, buf.length);
  if (bytes <= maxBytes && buf.length <= maxBytes) return { text: clean, truncated: false, bytes };
  const kept = buf
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  const keptBytes = Buffer.byteLength(kept, 'utf8');
  return { text: `${kept}\n[lifeline: output truncated, kept ${keptBytes} of ${bytes} bytes]`, truncated: true, bytes };
}

/** Postgres text cannot hold NUL bytes; a process can print them. */
function storableOutput(output: string): string {
  return output.includes('\u0000') ? output.replaceAll('\u0000', '\uFFFD') : output;
}

/** The last `maxBytes` of a running execution's output, as its row holds it: whole characters, no NUL. */
export function outputTail(output: string, maxBytes: number): string {
  const clean = storableOutput(output);
  const buf = Buffer.from(clean, 'utf8');
  if (buf.length <= maxBytes) return clean;
  return buf
    .subarray(buf.length - maxBytes)
    .toString('utf8')
    .replace(/^\uFFFD{1,3}/, '');
}
