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

/**
 * The input the first release started an execution with (v0.1's succeeded run), as JSON: what a
 * client of that release sent, to prove that the contract still takes it.
 */
export function firstReleaseInput(): Record<string, unknown> {
  const recorded = recordedHistories().find((h) => h.name === 'v0.1-unversioned/succeeded.binpb');
  const payload = recorded?.history.events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) throw new Error('test/fixtures/histories/v0.1-unversioned/succeeded.binpb has no start input');
  return JSON.parse(Buffer.from(payload.data).toString('utf8')) as Record<string, unknown>;
}
