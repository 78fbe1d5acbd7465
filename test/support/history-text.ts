/**
 * A workflow history (or any proto response) as JSON text in which every bytes field is read as
 * UTF-8, so plain text inside payloads can be searched for. Plain JSON.stringify would not do: it
 * turns bytes into base64 or number arrays, where no secret could ever be found.
 */
export function protoText(value: unknown): string {
  return JSON.stringify(readable(value));
}

function readable(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(readable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readable(v)]));
  }
  return value;
}
