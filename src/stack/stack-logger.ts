import { join } from 'node:path';
import { pino } from 'pino';
import PinoPretty from 'pino-pretty';
import { createLogger, type Logger } from '../util/logger.js';
import { privateDir } from './private-dir.js';

/**
 * `npm start`'s logger: every line, as JSON, to `lifeline.log` in the data dir; warnings and errors
 * also to the terminal, one readable line each, so the banner stays in view.
 */
export function stackLogger(dataDir: string, level: string): { log: Logger; logFile: string } {
  const logFile = join(privateDir(dataDir), 'lifeline.log');
  const file = pino.destination({ dest: logFile, append: true, mkdir: true, sync: true });
  const terminal = PinoPretty({ colorize: process.stdout.isTTY, singleLine: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' });
  const destination = pino.multistream([
    { level: level as pino.Level, stream: file },
    { level: 'warn', stream: terminal },
  ]);
  return { log: createLogger('lifeline', level, destination), logFile };
}
