import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import type { AgentClient } from '../agent/agent-client.js';
import type { Alerter } from '../alerts/webhook.js';
import type { LifelineMetrics } from '../metrics/lifeline-metrics.js';
import type { CapacitySlots } from '../slots/capacity-slots.js';
import type { AgentStore, AgentWithToken } from '../store/agent-store.js';
import type { ExecutionStore } from '../store/execution-store.js';
import type { Logger } from '../util/logger.js';
import type { WorkflowState } from './close-status.js';
import type { FullSweepTurns } from './full-sweep-turns.js';

export interface ReconcilerDeps {
  executions: ExecutionStore;
  agents: AgentStore;
  slots: CapacitySlots;
  workflows: WorkflowClient;
  agentClient: (agent: AgentWithToken) => AgentClient;
  alerter: Alerter;
  metrics: LifelineMetrics;
  log: Logger;
  /** Rows younger than this are left alone: their workflow may not have been created yet. */
  graceSeconds: number;
  stopWaitSeconds: number;
  /** When full sweeps are due; its interval is how far back a regular cycle must look. */
  fullSweeps: FullSweepTurns;
}

/**
 * `full` describes the workflow of every live row; `anomalies` describes only the rows that cheap
 * signals (Temporal visibility, Redis leases) single out, and is what a regular cycle runs.
 */
export type Sweep = 'full' | 'anomalies';

export interface Recovery {
  executionId: string;
  agent: string;
  workflow: WorkflowState;
  action: 'finalized' | 'lease_released' | 'lease_restored';
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
  deps: ReconcilerDeps;
  dryRun: boolean;
  report: ReconcileReport;
  describe(workflowId: string): Promise<WorkflowState>;
  fail(executionId: string, err: unknown): void;
}

export function startCycle(deps: ReconcilerDeps, dryRun: boolean, sweep: Sweep): Cycle {
  const report: ReconcileReport = {
    dryRun,
    sweep,
    liveRowsChecked: 0,
    leasesChecked: 0,
    workflowsDescribed: 0,
    recoveries: [],
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
