/** One AES-256 key and the id stored beside every payload it encrypts. */
export interface CodecKey {
  id: string;
  key: Buffer;
}

export const KEY_BYTES = 32;

export const codecKeysRequirement =
  `comma-separated keyId:base64Key entries, each key exactly ${KEY_BYTES} bytes in standard base64 ` +
  '(for example `openssl rand -base64 32`), the first one encrypting';

const keyIdPattern = /^[A-Za-z0-9_.-]+$/;
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses `id1:base64,id2:base64`. Returns the keys in order, or the problems found; problems name
 * entries by position and id only, so key material never reaches a log or an error message.
 */
export function parseCodecKeys(text: string): { keys: CodecKey[] } | { problems: string[] } {
  const keys: CodecKey[] = [];
  const problems: string[] = [];
  text.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    const where = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) return problems.push(`${where} is not keyId:base64Key`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!keyIdPattern.test(id)) return problems.push(`${where} has key id "${id}"; ids may use letters, digits, _ . -`);
    if (keys.some((k) => k.id === id)) return problems.push(`key id "${id}" appears twice`);
    if (!encoded || !base64Pattern.test(encoded)) return problems.push(`key "${id}" is not standard base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) return problems.push(`key "${id}" decodes to ${key.length} bytes, not ${KEY_BYTES}`);
    keys.push({ id, key });
  });
  return problems.length ? { problems } : { keys };
}
