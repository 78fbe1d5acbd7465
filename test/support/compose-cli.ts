import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { findOnPath, isExecutable } from '../../src/stack/find-executable.js';
import { runCommand } from '../../src/stack/run-command.js';

export const COMPOSE_VERSION = 'v2.40.3';
const COMPOSE_MODULE = 'github.com/docker/compose/v2';

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lifeline', 'docker-compose', COMPOSE_VERSION);
}

/**
 * The Docker Compose v2 CLI, whose `config` command validates and renders a compose file without
 * a Docker engine: LIFELINE_COMPOSE_CLI when set, else a cached build, else a build from the Go
 * module proxy (minutes once). `go install module@version` refuses this module (its go.mod has
 * exclude directives), so it is downloaded and built as the main module instead.
 */
export async function ensureComposeCli(): Promise<string> {
  const explicit = process.env.LIFELINE_COMPOSE_CLI;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`LIFELINE_COMPOSE_CLI=${explicit} is not an executable file`);
    return explicit;
  }
  const dir = cacheDir();
  const binary = join(dir, 'docker-compose');
  if (isExecutable(binary)) return binary;

  const go = findOnPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new Error(
      `cannot build the Docker Compose CLI: Go is not installed (needed for \`go mod download ${COMPOSE_MODULE}@${COMPOSE_VERSION}\` ` +
        'and `go build ./cmd`); install Go, or set LIFELINE_COMPOSE_CLI to a docker-compose v2 binary',
    );
  }
  const download = [go, 'mod', 'download', '-json', `${COMPOSE_MODULE}@${COMPOSE_VERSION}`];
  let sourceDir: string;
  try {
    sourceDir = (JSON.parse(execFileSync(download[0]!, download.slice(1), { encoding: 'utf8' })) as { Dir: string }).Dir;
  } catch (err) {
    throw new Error(`\`${download.join(' ')}\` failed: ${(err as Error).message}`, { cause: err });
  }
  mkdirSync(dir, { recursive: true });
  // Built into a scratch dir and moved into place, so an interrupted build never leaves a broken binary.
  const scratch = mkdtempSync(join(dir, '.build-'));
  try {
    await runCommand(
      go,
      [
        'build',
        '-mod=readonly',
        '-trimpath',
        '-ldflags',
        `-X ${COMPOSE_MODULE}/internal.Version=${COMPOSE_VERSION}`,
        '-o',
        join(scratch, 'docker-compose'),
        './cmd',
      ],
      { cwd: sourceDir },
    );
    renameSync(join(scratch, 'docker-compose'), binary);
  } finally {
    if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
  }
  return binary;
}
