/**
 * Postgres refuses the NUL character in `text` and in `jsonb` strings ("invalid byte sequence for
 * encoding UTF8: 0x00"); a JavaScript string can hold it. Every other character a string holds is stored.
 */
const nul = '\u0000';

export const unstorableTextMessage = 'must not contain the NUL character (\\u0000): Postgres cannot store it';

export function isStorableText(text: string): boolean {
  return !text.includes(nul);
}

/** Every string anywhere in a JSON value, keys included, is storable. */
export function isStorableJson(value: unknown): boolean {
  if (typeof value === 'string') return isStorableText(value);
  if (Array.isArray(value)) return value.every(isStorableJson);
  if (value && typeof value === 'object') return Object.entries(value).every(([k, v]) => isStorableText(k) && isStorableJson(v));
  return true;
}

/** The text with each NUL replaced by U+FFFD, so a refused input can still be recorded and shown. */
export function storableText(text: string): string {
  return text.replaceAll(nul, '\uFFFD');
}

/** The JSON value with every string made storable, keys included. */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]));
  }
  return value;
}
