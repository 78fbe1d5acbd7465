import { parseArgs } from 'node:util';
import { createLogger } from '../util/logger.js';
import { startAgentServer } from './agent-server.js';
import { loadAgentServerConfig, type AgentServerConfig } from './agent-server-config.js';

/** `node dist/agent-server/main.js --config path.json [--port N]` (`tsx src/agent-server/main.ts` in a checkout) */
const usage = 'usage: node dist/agent-server/main.js --config path.json [--port N]  (tsx src/agent-server/main.ts in a checkout)';

/** The configuration from the arguments; a problem ends the process with its message, never a stack trace. */
function configFromArgs(): AgentServerConfig {
  try {
    const { values } = parseArgs({ options: { config: { type: 'string' }, port: { type: 'string' } } });
    if (!values.config) throw new Error(usage);
    const fromFile = loadAgentServerConfig(values.config);
    if (values.port === undefined) return fromFile;
    if (!/^\d{1,5}$/.test(values.port)) throw new Error(`--port must be a whole number from 0 to 65535, not "${values.port}"`);
    return loadAgentServerConfig({ ...fromFile, port: Number(values.port) });
  } catch (err) {
    console.error(`agent server: ${(err as Error).message}`);
    process.exit(2);
  }
}

const config = configFromArgs();
const logger = createLogger('agent-server');
const server = await startAgentServer(config, logger).catch((err: Error) => {
  console.error(`agent server: cannot start on ${config.host}:${config.port}: ${err.message}`);
  process.exit(1);
});
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
