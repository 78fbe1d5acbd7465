import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';

/**
 * Histories recorded from earlier builds of the workflow code, one per path out of an execution
 * (test/fixtures/histories/<build>/<path>.binpb), as `npm run save-history` writes them: binary
 * protobuf, which decodes with the SDK's own proto types.
 */
export function recordedHistories(): { name: string; history: temporal.api.history.v1.History }[] {
  const fixtures = new URL('../fixtures/histories/', import.meta.url).pathname;
  return readdirSync(fixtures, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.binpb'))
    .sort()
    .map((file) => ({ name: file, history: temporal.api.history.v1.History.decode(readFileSync(join(fixtures, file))) }));
}
