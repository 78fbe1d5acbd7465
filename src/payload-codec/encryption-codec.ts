import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
// A CommonJS module whose exports Node cannot list for named ESM imports.
import proto from '@temporalio/proto';
import type { CodecKey } from '../config/codec-keys.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const PayloadMessage = proto.temporal.api.common.v1.Payload;

/**
 * AES-256-GCM over the whole serialized payload (metadata included, so the original encoding is
 * hidden too). The first key encrypts; every key decrypts, chosen by the key id in the metadata,
 * so a new key can be put first while histories written under older keys stay readable.
 * Payloads that are not encrypted pass through decode untouched: histories from before the codec
 * was turned on stay readable.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly encryptWith: CodecKey;
  private readonly byId: Map<string, Buffer>;

  constructor(keys: readonly CodecKey[]) {
    const [first] = keys;
    if (!first) throw new ValueError('EncryptionCodec needs at least one key');
    this.encryptWith = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.encryptWith;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The key id is authenticated data: a payload relabelled with another id fails to decrypt.
      cipher.setAAD(Buffer.from(id));
      const plain = PayloadMessage.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [METADATA_KEY_ID]: Buffer.from(id) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[METADATA_KEY_ID];
      if (!idBytes) throw new ValueError(`an encrypted payload has no ${METADATA_KEY_ID} metadata`);
      const id = Buffer.from(idBytes).toString();
      const key = this.byId.get(id);
      if (!key) {
        throw new ValueError(
          `a payload is encrypted with key id "${id}", which is not among the configured keys (${[...this.byId.keys()].join(', ')})`,
        );
      }
      const sealed = Buffer.from(payload.data ?? []);
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new ValueError(`an encrypted payload (key id "${id}") is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new ValueError(`an encrypted payload (key id "${id}") failed authentication: it was altered or the key is wrong`);
      }
      return PayloadMessage.decode(plain);
    });
  }
}
