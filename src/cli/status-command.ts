import { connect } from 'node:net';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { stackBanner } from '../stack/stack-banner.js';
import { readStackFile, stackFilePath } from '../config/stack-file.js';
import { UsageError } from './cli-errors.js';

/** Whether something accepts connections at host:port within two seconds. */
function answers(hostPort: string): Promise<boolean> {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
  if (!match) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host: match[1]!, port: Number(match[2]) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const hostPortOf = (url: string) => {
  const { host } = new URL(url);
  return host;
};

export function addStatusCommand(program: Command): void {
  program
    .command('status')
    .description("where `npm start`'s local Lifeline listens and logs, and whether its servers answer (the banner, again)")
    .action(async () => {
      const dataDir = loadConfig().dataDir;
      const stack = readStackFile(dataDir);
      if (!stack) throw new UsageError(`no local Lifeline is running here: \`npm start\` writes ${stackFilePath(dataDir)} once it is up`);
      const servers: [string, string][] = [
        ...(stack.temporal ? [['Temporal', stack.temporal.address] as [string, string]] : []),
        ['Postgres', hostPortOf(stack.databaseUrl)],
        ['Redis', hostPortOf(stack.redisUrl)],
      ];
      const checks = await Promise.all(servers.map(async ([name, at]) => `${name} ${(await answers(at)) ? 'answers' : 'DOES NOT ANSWER'}`));
      console.log(
        stackBanner({ places: stack.places ?? [], logFiles: stack.logFiles ?? [], stackFile: stackFilePath(dataDir) }).join('\n'),
      );
      console.log(`\n  ${checks.join('; ')}`);
      if (checks.some((c) => c.endsWith('DOES NOT ANSWER'))) {
        console.log(`  (is \`npm start\` still running? A killed one leaves ${stackFilePath(dataDir)} behind)`);
        process.exitCode = 1;
      }
    });
}
