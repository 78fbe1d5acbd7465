import { parseArgs } from 'node:util';
import { createLogger } from '../util/logger.js';
import { startAgentServer } from './agent-server.js';
import { loadAgentServerConfig } from './agent-server-config.js';

/** `tsx src/agent-server/main.ts --config path.json [--port N]` */
const { values } = parseArgs({ options: { config: { type: 'string' }, port: { type: 'string' } } });
if (!values.config) {
  console.error('usage: tsx src/agent-server/main.ts --config path.json [--port N]');
  process.exit(2);
}
const fromFile = loadAgentServerConfig(values.config);
const config = values.port === undefined ? fromFile : loadAgentServerConfig({ ...fromFile, port: Number(values.port) });

const logger = createLogger('agent-server');
const server = await startAgentServer(config, logger);
// Launchers wait for this line to learn the URL (the port may have been chosen by the OS).
process.stdout.write(`${JSON.stringify({ event: 'listening', url: server.url })}\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return logger.info({ signal }, 'already stopping; waiting for executions to end');
    stopping = true;
    logger.info({ signal }, 'stopping agent server');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'agent server did not stop cleanly');
        process.exit(1);
      },
    );
  });
}
