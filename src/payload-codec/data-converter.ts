import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { LifelineConfig } from '../config/config.js';
import { EncryptionCodec } from './encryption-codec.js';

/** The payload codec LIFELINE_CODEC_KEYS asks for; undefined when payloads stay unencrypted. */
export function payloadCodecFromConfig(config: Pick<LifelineConfig, 'codec'>): PayloadCodec | undefined {
  return config.codec.keys ? new EncryptionCodec(config.codec.keys) : undefined;
}

/**
 * Options to spread into `new Client({...})` and `Worker.create({...})`. Every client and worker of a
 * namespace must agree: a side without the codec reads encrypted payloads it cannot decode.
 */
export function dataConverterOptions(codec: PayloadCodec | undefined): { dataConverter?: DataConverter } {
  return codec ? { dataConverter: { payloadCodecs: [codec] } } : {};
}
