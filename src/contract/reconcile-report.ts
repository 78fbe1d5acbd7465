import type { ExecutionStatus } from '../domain/execution-status.js';

/**
 * The reconcile workflow's contract: the activity it calls and the report it returns (for the
 * schedule, the CLI and operators). The reconciler fills the report (reconciler/cycle.ts).
 */
export interface ReconcileActivities {
  reconcile(options?: ReconcileActivityOptions): Promise<ReconcileReport>;
}

export interface ReconcileActivityOptions {
  dryRun?: boolean;
  graceSeconds?: number;
  /** Unset: a full sweep when one is due, anomalies only otherwise (what the schedule runs). */
  sweep?: Sweep;
}

/**
 * `full` describes the workflow of every live row; `anomalies` describes only the rows that cheap
 * signals (Temporal visibility, Redis leases) single out, and is what a regular cycle runs.
 */
export type Sweep = 'full' | 'anomalies';

/** A workflow's state as the reconciler sees it: Temporal's status name, or NOT_FOUND. */
export type WorkflowState =
  'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW' | 'NOT_FOUND' | 'UNKNOWN';

export interface Recovery {
  executionId: string;
  agent: string;
  workflow: WorkflowState;
  /** `recorded`: the terminal row of an execution whose workflow closed before any worker picked it up (it had none). */
  action: 'finalized' | 'lease_released' | 'lease_restored' | 'leases_rebuilt' | 'process_stopped' | 'recorded';
  status?: string;
  error?: string;
}

/**
 * An execution whose workflow cannot make progress: its workflow task keeps failing or timing out
 * (`workflow_task_failing`), it is pinned to a build that no worker polls any more
 * (`no_worker_for_build`: its workers were stopped before it drained), or no worker has picked it
 * up and none polls its task queue (`no_worker_polling`: a misspelt LIFELINE_TASK_QUEUE, a worker
 * fleet that is down), so it has no row yet.
 */

export interface StuckExecution {
  executionId: string;
  agent?: string;
  /** The row's status: it stays as it is, since the right worker may come back. Absent: no row yet. */
  rowStatus?: ExecutionStatus;
  reason: 'workflow_task_failing' | 'no_worker_for_build' | 'no_worker_polling';
  /** What Temporal reports and the last failure says, such as a nondeterminism error after a code change. */
  cause: string;
  /** The workflow task's attempt: how many times it failed in a row. */
  attempts?: number;
  /** Since when the failing workflow task has been scheduled, or when the build's workers last polled. */
  since?: Date;
  /** The build (`deployment:build`) the execution is pinned to, when no worker polls it. */
  build?: string;
  /** The task queue no worker polls (`no_worker_polling`). */
  taskQueue?: string;
}

/** A deployment whose current build has no live worker, and the builds of it that do. */

export interface CurrentBuildWithoutWorkers {
  deployment: string;
  build: string;
  buildsWithWorkers: string[];
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
