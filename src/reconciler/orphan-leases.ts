import { isTerminal } from '../domain/execution-status.js';
import { forEachConcurrently } from '../util/for-each-concurrently.js';
import { isWorkflowOpen } from './close-status.js';
import { parallelChecks, type Cycle } from './cycle.js';

/**
 * Releases leases whose row is terminal or missing once Temporal confirms their workflow closed or
 * unknown. Leases of live rows are left to the live-row pass, which judges them with their row, and
 * leases of holds (a process still being stopped) to the slot-holds pass.
 * Read after that pass, so a lease it released is not counted again here.
 */
export async function releaseOrphanLeases(cycle: Cycle): Promise<void> {
  const { deps, dryRun, report } = cycle;
  for (const agent of await deps.agents.list({ withRemoved: true })) {
    let leases: Awaited<ReturnType<typeof deps.slots.leases>>;
    try {
      leases = await deps.slots.leases(agent.name);
    } catch (err) {
      // Redis down: a failure of the cycle (so alerted), not a reason to skip the other agents' checks.
      cycle.fail(`(leases of agent ${agent.name})`, err);
      continue;
    }
    report.leasesChecked += leases.length;
    const rowStatus = await deps.executions.statuses(leases.map((lease) => lease.executionId));
    // A hold's lease stays while the agent still runs its process: the slot-holds pass judges it.
    const held = new Set((await deps.executions.slotHolds(agent.name)).map((hold) => hold.executionId));
    const unowned = leases
      .map((lease) => lease.executionId)
      .filter((id) => {
        const status = rowStatus.get(id);
        return !held.has(id) && (status === undefined || isTerminal(status));
      });
    await forEachConcurrently(unowned, parallelChecks, async (executionId) => {
      try {
        const state = await cycle.describe(executionId);
        if (isWorkflowOpen(state)) return;
        if (!dryRun) {
          // A workflow that closed after the leases were read released its own: nothing was recovered.
          if (!(await deps.slots.release(agent.name, executionId))) return;
          deps.metrics.recovered('lease_of_closed_workflow');
        }
        report.recoveries.push({ executionId, agent: agent.name, workflow: state, action: 'lease_released' });
      } catch (err) {
        cycle.fail(executionId, err);
      }
    });
  }
}
