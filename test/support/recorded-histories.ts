import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { temporal } from '@temporalio/proto';

/** One recorded history, with the LIFELINE_CODEC_KEYS its payloads were encrypted with, if they were. */
export interface RecordedHistory {
  name: string;
  history: temporal.api.history.v1.History;
  codecKeys?: string;
}

/**
 * Histories recorded from earlier builds of the workflow code, one per path out of an execution
 * (test/fixtures/histories/<build>/<path>.binpb), as `npm run save-history` writes them: binary
 * protobuf, which decodes with the SDK's own proto types. A directory with a `codec-keys.txt`
 * holds histories recorded with payload encryption on, under that (fixture-only) key.
 */
export function recordedHistories(): RecordedHistory[] {
  const fixtures = new URL('../fixtures/histories/', import.meta.url).pathname;
  return readdirSync(fixtures, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.binpb'))
    .sort()
    .map((file) => {
      const keysFile = join(fixtures, dirname(file), 'codec-keys.txt');
      return {
        name: file,
        history: temporal.api.history.v1.History.decode(readFileSync(join(fixtures, file))),
        ...(existsSync(keysFile) ? { codecKeys: readFileSync(keysFile, 'utf8').trim() } : {}),
      };
    });
}
