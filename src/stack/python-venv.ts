import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import { lifelineCacheDir } from './cache-dir.js';
import { ensureDebianPackages } from './debian-packages.js';
import { findOnPath } from './find-executable.js';
import { runCommand } from './run-command.js';

/** Debian's python3 lacks venv (and ensurepip) until python3-venv is installed. */
function hasVenv(): boolean {
  const python = findOnPath('python3');
  if (!python) return false;
  try {
    execFileSync(python, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A Python virtual environment with exactly these pinned requirements, made once under
 * ~/.cache/lifeline/<name>/ (one directory per set of pins, so a second run installs nothing and a
 * change of pins makes a fresh one). Returns the directory; its programs are in `bin/`.
 */
export async function ensurePythonVenv(opts: { name: string; what: string; requirements: string[]; log: Logger }): Promise<string> {
  const { name, what, requirements, log } = opts;
  await ensureDebianPackages({ what: 'Python with venv', packages: ['python3', 'python3-venv'], present: hasVenv, log });
  const pinned = requirements.join('\n');
  const dir = lifelineCacheDir(name, requirements.join('+').replace(/[^A-Za-z0-9.=+-]/g, '_'));
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  log.info({ dir }, `installing ${what} into a virtual environment (once)`);
  await runCommand(findOnPath('python3')!, ['-m', 'venv', dir]);
  await runCommand(join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...requirements]);
  writeFileSync(join(dir, '.complete'), pinned);
  return dir;
}
