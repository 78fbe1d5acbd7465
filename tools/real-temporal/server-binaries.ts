import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lifelineCacheDir } from '../../src/stack/cache-dir.js';
import { findOnPath, isExecutable } from '../../src/stack/find-executable.js';
import { runCommand } from '../../src/stack/run-command.js';
import type { Logger } from '../../src/util/logger.js';

/** v1.32.2 and v1.31.5 need Go 1.26.10; v1.32.1's go.mod asks for the 1.26.8 these machines have. */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';

export interface TemporalServerBinaries {
  /** `temporal-server`: all services in one process. */
  server: string;
  /** `temporal-sql-tool`, with the schemas embedded. */
  sql: string;
}

function binariesIn(dir: string): TemporalServerBinaries {
  return { server: join(dir, 'server'), sql: join(dir, 'sql') };
}

function complete(binaries: TemporalServerBinaries): boolean {
  return isExecutable(binaries.server) && isExecutable(binaries.sql);
}

/** A build killed by SIGKILL leaves its scratch dir (250 MB); one untouched for an hour is no longer running. */
function removeAbandonedBuilds(parent: string): void {
  for (const name of readdirSync(parent)) {
    if (!name.startsWith('.build-')) continue;
    const path = join(parent, name);
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

function findGo(): string | undefined {
  return findOnPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/**
 * The server and SQL tool of go.temporal.io/server, built once from the Go module proxy into
 * `~/.cache/lifeline/temporal-server/<version>` (about 5 minutes on 2 cores) and reused after.
 * Nothing prebuilt is published where these machines can fetch it, hence the build.
 */
export async function ensureTemporalServerBinaries(log: Logger, dir = lifelineCacheDir('temporal-server', TEMPORAL_SERVER_VERSION)) {
  const binaries = binariesIn(dir);
  if (complete(binaries)) return binaries;
  const modules = ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql'].map((m) => `${m}@${TEMPORAL_SERVER_VERSION}`);
  // The gRPC modules tag leaves out code the server does not need; CGO off gives a static binary.
  const args = ['install', '-v', '-tags', 'disable_grpc_modules', ...modules];
  const go = findGo();
  if (!go) {
    throw new Error(
      `Go is not installed, and it is needed once to build the Temporal server ${TEMPORAL_SERVER_VERSION} into ${dir}. ` +
        'Install Go 1.26.8 or newer (https://go.dev/doc/install), then run: ' +
        `GOBIN=${dir} CGO_ENABLED=0 go ${args.join(' ')}`,
    );
  }
  mkdirSync(dirname(dir), { recursive: true });
  removeAbandonedBuilds(dirname(dir));
  // Built beside the cache dir and renamed into place whole: a build killed halfway leaves only a
  // scratch dir, never a cache dir that looks complete. Same filesystem, so the rename is atomic.
  const scratch = mkdtempSync(join(dirname(dir), `.build-${TEMPORAL_SERVER_VERSION}-`));
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  let packages = 0;
  let lastReport = 0;
  log.info(`building the Temporal server ${TEMPORAL_SERVER_VERSION} with ${go} into ${dir} (about 5 minutes on 2 cores; done once)`);
  try {
    await runCommand(go, args, {
      env: { ...process.env, GOBIN: scratch, CGO_ENABLED: '0' },
      onLine: (line) => {
        if (!line.startsWith('go: downloading')) packages += 1;
        if (Date.now() - lastReport < 15_000) return;
        lastReport = Date.now();
        log.info(`building the Temporal server: ${seconds()} s, ${packages} packages compiled (${line})`);
      },
    });
    if (!complete(binariesIn(scratch))) throw new Error(`go install finished but ${scratch} lacks server or sql`);
    // Another process may have finished the same build meanwhile: its result is as good as ours.
    if (!complete(binaries)) {
      chmodSync(scratch, 0o755);
      rmSync(dir, { recursive: true, force: true });
      renameSync(scratch, dir);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  log.info(`built the Temporal server ${TEMPORAL_SERVER_VERSION} in ${seconds()} s`);
  return binaries;
}
