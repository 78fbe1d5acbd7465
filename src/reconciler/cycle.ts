import { WorkflowNotFoundError } from '@temporalio/client';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import type { WorkflowState } from './close-status.js';
import type { CurrentBuildWithoutWorkers } from './current-build.js';
import type { StuckExecution } from './stuck-executions.js';

/**
 * `full` describes the workflow of every live row; `anomalies` describes only the rows that cheap
 * signals (Temporal visibility, Redis leases) single out, and is what a regular cycle runs.
 */
export type Sweep = 'full' | 'anomalies';

export interface Recovery {
  executionId: string;
  agent: string;
  workflow: WorkflowState;
  /** `recorded`: the terminal row of an execution whose workflow closed before any worker picked it up (it had none). */
  action: 'finalized' | 'lease_released' | 'lease_restored' | 'leases_rebuilt' | 'process_stopped' | 'recorded';
  status?: string;
  error?: string;
}

export interface ReconcileReport {
  dryRun: boolean;
  sweep: Sweep;
  liveRowsChecked: number;
  leasesChecked: number;
  /** Workflows asked about one by one (describe): the cost of a cycle, which the sweep decides. */
  workflowsDescribed: number;
  recoveries: Recovery[];
  /** Admitted runs that no worker has started yet (see worker-wait.ts). */
  awaitingWorker: number;
  /** Executions whose workflow cannot make progress (see stuck-report.ts). */
  stuck: StuckExecution[];
  /** Deployments whose current build has no workers: new executions wait (see current-build.ts). */
  currentBuildsWithoutWorkers: CurrentBuildWithoutWorkers[];
  failures: { executionId: string; error: string }[];
  durationMs: number;
}

/**
 * Executions one cycle checks at once. Their describe calls (only a describe is current the moment
 * a workflow closes, visibility lags behind it) and their Postgres and Redis calls overlap instead
 * of queueing, which matters when Temporal is a network hop away.
 */
export const parallelChecks = 16;

/** One cycle's dependencies, mode and report, shared by its passes. */
export interface Cycle {
  deps: LifelineDeps;
  dryRun: boolean;
  report: ReconcileReport;
  describe(workflowId: string): Promise<WorkflowState>;
  fail(executionId: string, err: unknown): void;
}

export function startCycle(deps: LifelineDeps, dryRun: boolean, sweep: Sweep): Cycle {
  const report: ReconcileReport = {
    dryRun,
    sweep,
    liveRowsChecked: 0,
    leasesChecked: 0,
    workflowsDescribed: 0,
    recoveries: [],
    awaitingWorker: 0,
    stuck: [],
    currentBuildsWithoutWorkers: [],
    failures: [],
    durationMs: 0,
  };
  return {
    deps,
    dryRun,
    report,
    async describe(workflowId) {
      report.workflowsDescribed += 1;
      try {
        const { status } = await deps.workflows.getHandle(workflowId).describe();
        return status.name as WorkflowState;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
        throw err;
      }
    },
    fail(executionId, err) {
      const error = err instanceof Error ? err.message : String(err);
      report.failures.push({ executionId, error });
      deps.log.error({ executionId, err: error }, 'reconciler could not recover an execution');
    },
  };
}
