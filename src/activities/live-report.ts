import { setTimeout as delay } from 'node:timers/promises';
import { maxOutputTailBytes, type AgentExecution } from '../agent/protocol.js';
import { outputTail } from '../store/output-cap.js';
import type { ExecutionStore, LiveReport } from '../store/execution-store.js';
import type { Logger } from '../util/logger.js';

/** At most one row write per running execution this often: thousands of runs must not become thousands of writes a second. */
const liveReportIntervalMs = 5000;

/**
 * Copies what a running execution's agent reports (progress, usage, the output's tail) into its row,
 * at most once per interval and only when it changed, so a dashboard or `lifeline executions logs`
 * reading Postgres sees it without the agent. The run asks the agent for the tail only on reads
 * that are `due`, and offers only those, so a row's output and output bytes always come from one answer. Writes are not
 * awaited by the run: a slow or down Postgres must never delay its heartbeat, and a lost write is
 * made good by the next one.
 */
export function createLiveReporter(executions: Pick<ExecutionStore, 'recordLive'>, executionId: string, log: Logger) {
  let writtenAt = -Infinity;
  let written: string | undefined;
  let writing: Promise<void> | undefined;
  const due = (now: number) => !writing && now - writtenAt >= liveReportIntervalMs;
  return {
    due,

    /**
     * Waits (at most `ms`) for a write in flight: the run's conclusion stores the final output next,
     * and a late copy of the running report must not land over it.
     */
    async settle(ms: number): Promise<void> {
      if (!writing) return;
      // The timer goes with the write: a run that ended must not leave one behind for `ms`.
      const timer = new AbortController();
      await Promise.race([writing, delay(ms, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
    },

    offer(exec: AgentExecution, now: number): void {
      if (!due(now)) return;
      const report = liveReport(exec);
      const key = JSON.stringify(report);
      if (key === written) return;
      writtenAt = now;
      writing = executions
        .recordLive(executionId, report)
        .then(
          () => {
            written = key;
          },
          (err: Error) => log.warn({ err: err.message }, "could not copy the agent's report into the row; the next one will"),
        )
        .finally(() => {
          writing = undefined;
        });
    },
  };
}

function liveReport(exec: AgentExecution): LiveReport {
  const progressAt = exec.lastProgressAt === undefined ? NaN : Date.parse(exec.lastProgressAt);
  return {
    // Only with the tail it counts: the row's output and output bytes always come from one answer.
    outputBytes: exec.outputTail === undefined ? undefined : exec.outputBytes,
    lastProgressAt: Number.isFinite(progressAt) ? new Date(progressAt) : undefined,
    usage: exec.usage,
    outputTail: exec.outputTail === undefined ? undefined : outputTail(exec.outputTail, maxOutputTailBytes),
  };
}
