import { join } from 'node:path';
import { pino } from 'pino';
import PinoPretty from 'pino-pretty';
import { createLogger, type Logger } from '../util/logger.js';
import { privateDir } from './private-dir.js';

/** The SDK's own warning for each failed workflow repeats Lifeline's line about it: the file has it. */
const sdkWarning = (line: string) => line.includes('"component":"temporal-sdk"') && line.includes('"level":40');

/**
 * `npm start`'s logger: every line, as JSON, to `lifeline.log` in the data dir; warnings and errors
 * also to the terminal, one readable line each, so the banner stays in view.
 */
export function stackLogger(dataDir: string, level: string): { log: Logger; logFile: string } {
  const logFile = join(privateDir(dataDir), 'lifeline.log');
  const file = pino.destination({ dest: logFile, append: true, mkdir: true, sync: true });
  // errorLikeObjectKeys empty: an error stays on its line too (its stack is in the file).
  const terminal = PinoPretty({
    colorize: process.stdout.isTTY,
    singleLine: true,
    errorLikeObjectKeys: [],
    ignore: 'pid,hostname,error.stack,err.stack',
    translateTime: 'SYS:HH:MM:ss',
  });
  const destination = pino.multistream([
    { level: level as pino.Level, stream: file },
    { level: 'warn', stream: { write: (line: string) => void (sdkWarning(line) || terminal.write(line)) } },
  ]);
  return { log: createLogger('lifeline', level, destination), logFile };
}
