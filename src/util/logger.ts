import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON logger for every Lifeline process. Child loggers carry the execution id, workflow id
 * and agent so that every line about an execution can be found by any of them.
 */
export function createLogger(name: string, level = process.env.LIFELINE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/** A logger that drops everything: for tests and tools that report through their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
