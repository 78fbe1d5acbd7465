import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import type { AgentClient } from '../agent/agent-client.js';
import { stopAndWait } from '../agent/stop-and-wait.js';
import type { Alerter } from '../alerts/webhook.js';
import { isTerminal } from '../domain/execution-status.js';
import type { LifelineMetrics } from '../metrics/lifeline-metrics.js';
import type { CapacitySlots } from '../slots/capacity-slots.js';
import type { AgentStore, AgentWithToken } from '../store/agent-store.js';
import type { ExecutionStore } from '../store/execution-store.js';
import { forEachConcurrently } from '../util/for-each-concurrently.js';
import type { Logger } from '../util/logger.js';
import { isWorkflowOpen, outcomeForClosedWorkflow, type WorkflowState } from './close-status.js';

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
}

export interface ReconcileOptions {
  dryRun?: boolean;
}

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
  liveRowsChecked: number;
  leasesChecked: number;
  recoveries: Recovery[];
  failures: { executionId: string; error: string }[];
  durationMs: number;
}

async function workflowState(workflows: WorkflowClient, workflowId: string): Promise<WorkflowState> {
  try {
    const { status } = await workflows.getHandle(workflowId).describe();
    return status.name as WorkflowState;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
    throw err;
  }
}

/**
 * Executions one cycle checks at once. Their describe calls (one per live row: only a describe is
 * current the moment a workflow closes, visibility lags behind it) and their Postgres and Redis
 * calls overlap instead of queueing, which matters when Temporal is a network hop away.
 */
export const parallelChecks = 16;

async function leaseHoldersOf(deps: ReconcilerDeps, agents: Set<string>): Promise<Map<string, Set<string>>> {
  const holders = new Map<string, Set<string>>();
  for (const agent of agents) {
    // Unreadable (Redis down): every running row then tries the restore script and reports its own failure.
    const leases = await deps.slots.leases(agent).catch(() => []);
    holders.set(agent, new Set(leases.map((lease) => lease.executionId)));
  }
  return holders;
}

/**
 * One reconcile cycle (DESIGN §6). Finalizes live rows whose workflow is closed or missing (the
 * case of Terminate in the Temporal UI, where no workflow code runs), stopping their agent process
 * and releasing their slot; restores the lease of a running execution that Redis lost; then
 * releases leases whose workflow is closed or missing. It never finalizes or releases an execution
 * whose workflow is running, whatever its lease says.
 */
export async function reconcileOnce(deps: ReconcilerDeps, { dryRun = false }: ReconcileOptions = {}): Promise<ReconcileReport> {
  const started = Date.now();
  const report: ReconcileReport = { dryRun, liveRowsChecked: 0, leasesChecked: 0, recoveries: [], failures: [], durationMs: 0 };
  const fail = (executionId: string, err: unknown) => {
    const error = err instanceof Error ? err.message : String(err);
    report.failures.push({ executionId, error });
    deps.log.error({ executionId, err: error }, 'reconciler could not recover an execution');
  };

  const live = await deps.executions.listLive(deps.graceSeconds);
  report.liveRowsChecked = live.length;
  // Each agent's leases read once: only a running row missing from them needs the restore script.
  const leaseHolders = await leaseHoldersOf(deps, new Set(live.map((row) => row.agent)));
  await forEachConcurrently(live, parallelChecks, async (row) => {
    try {
      const state = await workflowState(deps.workflows, row.id);
      if (isWorkflowOpen(state)) {
        // Redis lost the lease of a run that is really going on: count it again.
        const held = leaseHolders.get(row.agent)?.has(row.id);
        if (row.status === 'running' && !dryRun && !held && !(await deps.slots.restore(row.agent, row.id))) {
          // The workflow writes the terminal row before it releases: if the row is no longer live
          // now, its release may already have happened and the restored lease must go again.
          const now = await deps.executions.get(row.id);
          if (!now || isTerminal(now.status)) {
            await deps.slots.release(row.agent, row.id);
            return;
          }
          deps.metrics.recovered('lease_restored');
          report.recoveries.push({ executionId: row.id, agent: row.agent, workflow: state, action: 'lease_restored' });
        }
        return;
      }
      const outcome = outcomeForClosedWorkflow(state);
      const recovery: Recovery = { executionId: row.id, agent: row.agent, workflow: state, action: 'finalized', status: outcome.status };
      if (!dryRun) {
        await stopAgentProcess(deps, row.agent, row.id);
        await deps.slots.release(row.agent, row.id);
        const written = await deps.executions.transition(row.id, outcome.status, {
          actor: 'reconciler',
          reason: `workflow ${state}: ${outcome.error}`,
          outcome,
        });
        if (!written.applied) return; // the workflow wrote it first: nothing to recover
        deps.metrics.recovered(`workflow_${state.toLowerCase()}`);
        deps.metrics.executionFinished(row.agent, outcome.status, outcome.errorKind, undefined);
        await deps.alerter.send({
          kind: 'execution_recovered',
          summary: `reconciler finalized ${row.id} as ${outcome.status}: ${outcome.error}`,
          executionId: row.id,
          agent: row.agent,
          details: { workflow: state },
        });
      }
      report.recoveries.push(recovery);
    } catch (err) {
      fail(row.id, err);
    }
  });

  for (const agent of await deps.agents.list()) {
    const leases = await deps.slots.leases(agent.name);
    report.leasesChecked += leases.length;
    const rowStatus = await deps.executions.statuses(leases.map((lease) => lease.executionId));
    // Leases of live rows are handled above, with their workflow.
    const unowned = leases.map((lease) => lease.executionId).filter((id) => {
      const status = rowStatus.get(id);
      return status === undefined || isTerminal(status);
    });
    await forEachConcurrently(unowned, parallelChecks, async (executionId) => {
      try {
        const state = await workflowState(deps.workflows, executionId);
        if (isWorkflowOpen(state)) return;
        if (!dryRun) {
          await deps.slots.release(agent.name, executionId);
          deps.metrics.recovered('lease_of_closed_workflow');
        }
        report.recoveries.push({ executionId, agent: agent.name, workflow: state, action: 'lease_released' });
      } catch (err) {
        fail(executionId, err);
      }
    });
  }

  report.durationMs = Date.now() - started;
  const attempted = report.recoveries.length + report.failures.length;
  if (report.failures.length > 0 && report.failures.length * 2 >= attempted) {
    await deps.alerter.send({
      kind: 'reconciler_degraded',
      summary: `reconciler failed ${report.failures.length} of ${attempted} recoveries`,
      details: { failures: report.failures.slice(0, 20) },
    });
  }
  if (attempted > 0) deps.log.info({ recoveries: report.recoveries.length, failures: report.failures.length, dryRun }, 'reconcile cycle');
  return report;
}

/** Best effort: an agent that is down cannot run the process either, and its own restart loses it. */
async function stopAgentProcess(deps: ReconcilerDeps, agentName: string, executionId: string): Promise<void> {
  const agent = await deps.agents.getWithToken(agentName);
  if (!agent) return;
  try {
    await stopAndWait(deps.agentClient(agent), executionId, deps.stopWaitSeconds);
  } catch (err) {
    deps.log.warn({ executionId, agent: agentName, err: (err as Error).message }, 'reconciler could not stop the agent process');
  }
}
