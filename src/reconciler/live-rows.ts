import { StopPendingError } from '../agent/agent-errors.js';
import { stopAndWait } from '../agent/stop-and-wait.js';
import { isTerminal } from '../domain/execution-status.js';
import type { LiveRow } from '../store/execution-reader.js';
import { isWorkflowOpen, outcomeForClosedWorkflow } from './close-status.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import type { Cycle } from './cycle.js';
import type { Recovery } from '../contract/reconcile-report.js';

export type { LiveRow };

/** A running row, or a queued one admitted and waiting for a worker: either must hold a lease. */
export function holdsSlot(row: LiveRow): boolean {
  return row.status === 'running' || row.slotAcquiredAt !== null;
}

/** The executions holding a lease, per agent; a row that holds a slot but is missing from them has lost its lease. */
export type LeaseHolders = Map<string, Set<string>>;

export async function leaseHoldersOf(deps: LifelineDeps, agents: Set<string>): Promise<LeaseHolders> {
  const holders: LeaseHolders = new Map();
  for (const agent of agents) {
    // Unreadable (Redis down): every running row then tries the restore script and reports its own failure.
    const leases = await deps.slots.leases(agent).catch(() => []);
    holders.set(agent, new Set(leases.map((lease) => lease.executionId)));
  }
  return holders;
}

/**
 * Asks Temporal about one live row's workflow. Closed or missing: stops the agent process,
 * releases the slot and writes the terminal status. Open: restores the lease Redis lost, if it did.
 */
export async function reconcileLiveRow(cycle: Cycle, row: LiveRow, leaseHolders: LeaseHolders): Promise<void> {
  const { deps, dryRun, report } = cycle;
  try {
    const state = await cycle.describe(row.id);
    if (isWorkflowOpen(state)) {
      // Redis lost the lease of a run that is really going on: count it again.
      const held = leaseHolders.get(row.agent)?.has(row.id);
      if (holdsSlot(row) && !dryRun && !held && !(await deps.slots.restore(row.agent, row.id))) {
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
      // A process the agent says still runs keeps its slot (a hold, written before the terminal write):
      // the slot-holds pass releases it once the agent no longer runs it.
      if (await stopAgentProcess(deps, row.agent, row.id)) await deps.executions.holdSlotWhileStopping(row.id, row.agent);
      else await deps.slots.release(row.agent, row.id);
      const written = await deps.executions.transition(row.id, outcome.status, {
        actor: 'reconciler',
        reason: `workflow ${state}: ${outcome.error}`,
        outcome,
      });
      if (!written.applied) return; // the workflow wrote it first: nothing to recover
      deps.metrics.recovered(`workflow_${state.toLowerCase()}`);
      deps.metrics.executionFinished(row.agent, written.tenant, outcome.status, outcome.errorKind, undefined);
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
    cycle.fail(row.id, err);
  }
}

/**
 * Best effort: an agent that is down cannot run the process either, and its own restart loses it.
 * True when the agent answered that the process still runs after the stop wait.
 */
async function stopAgentProcess(deps: LifelineDeps, agentName: string, executionId: string): Promise<boolean> {
  const agent = await deps.agents.getRegistration(agentName);
  if (!agent) return false;
  try {
    const exec = await stopAndWait(await deps.agentClient(agent), executionId, deps.settings.execution.stopWaitSeconds);
    return exec?.status === 'running';
  } catch (err) {
    deps.log.warn({ executionId, agent: agentName, err: (err as Error).message }, 'reconciler could not stop the agent process');
    return err instanceof StopPendingError;
  }
}
