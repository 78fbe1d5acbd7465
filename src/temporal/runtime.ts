import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../util/logger.js';

let installed = false;

/**
 * Routes the Temporal SDK's own logs into Lifeline's structured logger and, given a port, serves
 * its runtime metrics there on loopback (the worker's metrics endpoint includes them). Once per process.
 */
export function installTemporalRuntime(log: Logger, metricsPort?: number): void {
  if (installed) return;
  installed = true;
  const sdk = log.child({ component: 'temporal-sdk' });
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'debug', WARN: 'warn', ERROR: 'error' } as const)[level];
    sdk[method](meta ?? {}, message);
  };
  Runtime.install({
    logger: {
      log: write,
      trace: (m, meta) => write('TRACE', m, meta),
      debug: (m, meta) => write('DEBUG', m, meta),
      info: (m, meta) => write('INFO', m, meta),
      warn: (m, meta) => write('WARN', m, meta),
      error: (m, meta) => write('ERROR', m, meta),
    },
    shutdownSignals: [],
    telemetryOptions: {
      // The core's own warnings join Lifeline's log (its file, under npm start) instead of stderr.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsPort ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } } : {}),
    },
  });
}
