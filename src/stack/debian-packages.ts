import type { Logger } from '../util/logger.js';
import { findOnPath } from './find-executable.js';
import { runCommand } from './run-command.js';

let aptIndexFresh = false;

/**
 * Makes sure a server binary is present, installing its Debian packages when it is missing and
 * we may (running as root). Otherwise the error says exactly what to install.
 */
export async function ensureDebianPackages(opts: { what: string; packages: string[]; present: () => boolean; log: Logger }): Promise<void> {
  const { what, packages, present, log } = opts;
  if (present()) return;
  const installCommand = `apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} is not installed and Lifeline is not running as root. Install it with: sudo ${installCommand}`);
  }
  if (!findOnPath('apt-get')) {
    throw new Error(`${what} is not installed and apt-get is not available. Install the package(s) ${packages.join(', ')}.`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const progress = (line: string) => log.info({ apt: line }, `installing ${what}`);
  if (!aptIndexFresh) {
    log.info(`installing ${what}: apt-get update`);
    await runCommand('apt-get', ['update'], { env, onLine: progress });
    aptIndexFresh = true;
  }
  log.info(`installing ${what}: ${installCommand}`);
  await runCommand('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, onLine: progress });
  if (!present()) throw new Error(`${what}: \`${installCommand}\` succeeded but the binary is still missing`);
}
