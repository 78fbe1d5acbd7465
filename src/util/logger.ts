import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON logger for every Lifeline process. Child loggers carry the execution id, workflow id
 * and agent so that every line about an execution can be found by any of them.
 */
export function createLogger(name: string, level = process.env.LIFELINE_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  // The Temporal SDK logs its failures under `error`; without a serializer an Error prints as {}.
  const options = { name, level, base: { pid: process.pid }, serializers: { error: pino.stdSerializers.err } };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that drops everything: for tests and tools that report through their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
