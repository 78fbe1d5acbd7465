import { ConfigError, loadConfig } from '../config/config.js';
import { createLogger } from '../util/logger.js';
import { startCodecServer } from './codec-server.js';
import { EncryptionCodec } from './encryption-codec.js';

/**
 * `tsx src/payload-codec/main.ts`: the codec endpoint alone, for deployments whose workers are
 * replicas without a fixed address the Temporal UI could call. Same variables as the worker's.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const { keys, port } = config.codec;
  if (!keys || !port) throw new ConfigError('the codec server needs LIFELINE_CODEC_KEYS and LIFELINE_CODEC_PORT');
  const log = createLogger('lifeline-codec-server', config.logLevel);
  const server = await startCodecServer({ ...config.codec, port, host: config.listenHost, codec: new EncryptionCodec(keys), log });
  log.info(
    {
      url: server.url,
      keyIds: keys.map((k) => k.id),
      auth: config.codec.authToken ? 'bearer' : 'none',
      corsOrigins: config.codec.corsOrigins,
    },
    'codec server listening',
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
