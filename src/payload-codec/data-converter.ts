import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { LifelineConfig } from '../config/config.js';
import { siblingModule } from '../util/module-path.js';
import { EncryptionCodec } from './encryption-codec.js';

/** The payload codec LIFELINE_CODEC_KEYS asks for; undefined when payloads stay unencrypted. */
export function payloadCodecFromConfig(config: Pick<LifelineConfig, 'codec'>): PayloadCodec | undefined {
  return config.codec.keys ? new EncryptionCodec(config.codec.keys) : undefined;
}

/**
 * Options to spread into `new Client({...})`. Every client and worker of a namespace must agree: a
 * side without the codec reads encrypted payloads it cannot decode.
 */
export function dataConverterOptions(codec: PayloadCodec | undefined): { dataConverter?: DataConverter } {
  return codec ? { dataConverter: { payloadCodecs: [codec] } } : {};
}

/** The module a worker with a codec loads its failure converter from (see encrypted-failures.ts). */
export const encryptedFailuresPath = siblingModule(import.meta.url, './encrypted-failures');

/** For `Worker.create({...})`: with a codec, failures are encoded too, so they are encrypted with the payloads. */
export function workerDataConverterOptions(codec: PayloadCodec | undefined): { dataConverter?: DataConverter } {
  return codec ? { dataConverter: { payloadCodecs: [codec], failureConverterPath: encryptedFailuresPath } } : {};
}
