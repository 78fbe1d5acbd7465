import type { WorkflowHandle } from '@temporalio/client';
import type { ExecutionStatus } from '../domain/execution-status.js';
import type { ExecutionReader, ExecutionRow } from '../store/execution-reader.js';
import { waitUntil } from '../util/wait-until.js';
import { stateQuery, type ExecutionLiveState, type ExecutionPhase } from '../contract/execution-contract.js';

/** Polls with a deadline; the error names what was awaited and what was last seen. */
export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Waits until `read` returns something `seen` reports as wanted; the timeout error names the last thing seen. */
async function waitToSee<T>(
  what: string,
  read: () => Promise<T>,
  seen: (value: T) => string,
  wanted: string,
  opts: WaitForOptions,
): Promise<T> {
  let last = '(nothing yet)';
  return waitUntil(
    async () => {
      const value = await read();
      last = seen(value);
      return last === wanted ? value : undefined;
    },
    { what, timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: opts.intervalMs ?? 100, hint: () => `last seen: ${last}` },
  );
}

/** Waits until the execution's row has the status (a terminal one once the workflow wrote it), and returns the row. */
export async function waitForRowStatus(
  executions: ExecutionReader,
  executionId: string,
  status: ExecutionStatus,
  opts: WaitForOptions = {},
): Promise<ExecutionRow> {
  const row = await waitToSee(
    `execution ${executionId} to be ${status}`,
    () => executions.get(executionId),
    (r) => r?.status ?? 'no row',
    status,
    opts,
  );
  return row!;
}

/** Waits until the workflow's `state` query reports the phase, and returns that live state. */
export async function waitForPhase(handle: WorkflowHandle, phase: ExecutionPhase, opts: WaitForOptions = {}): Promise<ExecutionLiveState> {
  return waitToSee(
    `execution ${handle.workflowId} to reach phase ${phase}`,
    () => handle.query(stateQuery),
    (s) => s.phase,
    phase,
    opts,
  );
}
