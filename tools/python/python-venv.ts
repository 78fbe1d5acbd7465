import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from '../../src/stack/debian-packages.js';
import { lifelineCacheDir } from '../../src/stack/cache-dir.js';
import { findOnPath } from '../../src/stack/find-executable.js';
import { runCommand } from '../../src/stack/run-command.js';
import type { Logger } from '../../src/util/logger.js';

const requirements = fileURLToPath(new URL('../../examples/python/requirements.txt', import.meta.url));

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
 * The Python example's virtual environment (examples/python/requirements.txt: Temporal's Python SDK
 * and psycopg), made once per requirements under ~/.cache/lifeline/python-venv/, so a second run
 * installs nothing. Returns its python.
 */
export async function ensurePythonVenv(log: Logger): Promise<string> {
  await ensureDebianPackages({ what: 'Python with venv', packages: ['python3', 'python3-venv'], present: hasVenv, log });
  const pinned = readFileSync(requirements, 'utf8');
  const dir = lifelineCacheDir(
    'python-venv',
    pinned
      .trim()
      .split('\n')
      .join('+')
      .replace(/[^A-Za-z0-9.=+-]/g, '_'),
  );
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, '.complete'))) return python;
  rmSync(dir, { recursive: true, force: true });
  log.info({ dir }, 'making the Python example a virtual environment (once)');
  await runCommand(findOnPath('python3')!, ['-m', 'venv', dir]);
  await runCommand(join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  writeFileSync(join(dir, '.complete'), pinned);
  return python;
}
