import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

/**
 * Histories recorded from earlier workflow code, one per path out of an execution (success,
 * failure, timeout, operator stop, Cancel, skip, queued, queue timeout, stop while queued). Open
 * executions replay them after every deploy: a change that cannot replay them must ship as a new
 * build, not break running work (TMPRL1100). Record new ones when a new build adds paths.
 */
const fixtures = new URL('./fixtures/histories/', import.meta.url).pathname;

/** Binary protobuf (`History.encode` of a fetched history): it decodes with the SDK's own proto types. */
function recordedHistories(): { name: string; history: temporal.api.history.v1.History }[] {
  return readdirSync(fixtures, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.binpb'))
    .sort()
    .map((file) => ({ name: file, history: temporal.api.history.v1.History.decode(readFileSync(join(fixtures, file))) }));
}

describe('the execution workflow replays every recorded history', () => {
  const histories = recordedHistories();

  it('has histories of every path to replay', () => {
    expect(histories.length).toBeGreaterThanOrEqual(9);
  });

  it('replays each without a nondeterminism error', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      histories.map(({ name, history }) => ({ workflowId: name, history })),
    );
    const failures: string[] = [];
    for await (const result of results) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
