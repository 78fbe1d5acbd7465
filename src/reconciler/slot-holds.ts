import { forEachConcurrently } from '../util/for-each-concurrently.js';
import { isWorkflowOpen } from './close-status.js';
import { parallelChecks, type Cycle } from './cycle.js';
import { defaultStopAlertSeconds, stoppingHold } from './stopping-holds.js';

/**
 * Capacity that Redis forgot (DESIGN: Capacity slots). First, each agent whose leases Redis lost
 * (no marker: a restart without persistence, FLUSHALL, a failover, an eviction) has them rebuilt
 * from Postgres, even if no admission came to do it. Then the holds of ended executions whose
 * process is still being stopped: a hold whose lease is missing (a replica that lagged behind) gets
 * it back while its workflow runs; a hold whose workflow closed (terminated while stopping) goes,
 * with its lease. Live rows' leases are the live-row pass's.
 */
export async function reconcileSlotHolds(cycle: Cycle): Promise<void> {
  const { deps, dryRun, report } = cycle;
  for (const agent of await deps.agents.list({ withRemoved: true })) {
    try {
      const created = dryRun ? undefined : await deps.slots.rebuild(agent.name);
      // An agent that never had a lease gets its marker too, but only restored leases are a recovery.
      if (created !== undefined && created > 0) {
        deps.metrics.recovered('leases_rebuilt');
        report.recoveries.push({
          executionId: `(leases of agent ${agent.name})`,
          agent: agent.name,
          workflow: 'RUNNING',
          action: 'leases_rebuilt',
        });
      }
    } catch (err) {
      // Redis (or Postgres) out of reach: a failure of the cycle, so counted towards reconciler_degraded.
      cycle.fail(`(capacity slots of agent ${agent.name})`, err);
    }
  }
  const holds = await deps.executions.slotHolds();
  const leased = new Map<string, Set<string>>();
  const stillStopping: typeof holds = [];
  await forEachConcurrently(holds, parallelChecks, async (hold) => {
    try {
      let agentLeases = leased.get(hold.agent);
      if (!agentLeases) {
        agentLeases = new Set((await deps.slots.leases(hold.agent)).map((lease) => lease.executionId));
        leased.set(hold.agent, agentLeases);
      }
      const state = await cycle.describe(hold.executionId);
      if (isWorkflowOpen(state)) {
        stillStopping.push(hold);
        if (agentLeases.has(hold.executionId) || dryRun) return;
        if (await deps.slots.restore(hold.agent, hold.executionId)) return;
        // The workflow released it meanwhile (lease first, hold second): the restored lease must go again.
        if (!(await deps.executions.slotHold(hold.executionId))) {
          await deps.slots.release(hold.agent, hold.executionId);
          return;
        }
        deps.metrics.recovered('lease_restored');
        report.recoveries.push({ executionId: hold.executionId, agent: hold.agent, workflow: state, action: 'lease_restored' });
        return;
      }
      // The workflow closed (terminated while stopping): the slot is kept while the agent still runs the
      // process (the agent-process pass keeps asking it to stop), or while the agent cannot say.
      if (await stillRunsOnAgent(cycle, hold.agent, hold.executionId)) {
        stillStopping.push(hold);
        return;
      }
      if (!dryRun) {
        await deps.slots.release(hold.agent, hold.executionId);
        await deps.executions.clearSlotHold(hold.executionId);
        deps.metrics.recovered('lease_of_closed_workflow');
      }
      report.recoveries.push({ executionId: hold.executionId, agent: hold.agent, workflow: state, action: 'lease_released' });
    } catch (err) {
      cycle.fail(hold.executionId, err);
    }
  });
  if (!dryRun) await alertStopsFailing(cycle, stillStopping);
}

/** True unless the agent says it runs no process for the execution (or the agent is no longer registered). */
async function stillRunsOnAgent(cycle: Cycle, agentName: string, executionId: string): Promise<boolean> {
  const { deps } = cycle;
  const agent = await deps.agents.getRegistration(agentName);
  if (!agent) return false;
  try {
    const run = await (await deps.agentClient(agent, 5000)).get(executionId);
    return run?.status === 'running';
  } catch (err) {
    deps.log.warn(
      { executionId, agent: agentName, err: (err as Error).message },
      'agent could not say whether it still runs a held process',
    );
    return true;
  }
}

/** A stop that keeps failing past LIFELINE_STOP_ALERT_SECONDS: its slot is lost to the agent until someone looks. */
async function alertStopsFailing(cycle: Cycle, holds: Awaited<ReturnType<Cycle['deps']['executions']['slotHolds']>>): Promise<void> {
  const { deps } = cycle;
  const limitSeconds = deps.settings.reconciler.stopAlertSeconds ?? defaultStopAlertSeconds;
  for (const hold of holds) {
    const heldSeconds = Math.round((Date.now() - hold.since.getTime()) / 1000);
    if (heldSeconds < limitSeconds) continue;
    const stopping = await stoppingHold(deps.workflows, hold);
    await deps.standingAlerts.send(
      {
        kind: 'stop_keeps_failing',
        summary:
          `execution ${hold.executionId} ended ${heldSeconds} s ago but its agent process is still not confirmed stopped` +
          ` (stop attempt ${stopping.attempt ?? '?'}${stopping.lastFailure ? `: ${stopping.lastFailure}` : ''}); it holds a capacity slot of ${hold.agent} until it is`,
        executionId: hold.executionId,
        agent: hold.agent,
        details: { since: hold.since.toISOString(), attempt: stopping.attempt, runbook: 'docs/operations.md: Slots held while stopping' },
      },
      hold.executionId,
    );
  }
}
