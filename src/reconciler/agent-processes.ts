import { isTerminal } from '../domain/execution-status.js';
import { forEachConcurrently } from '../util/for-each-concurrently.js';
import { isWorkflowOpen } from './close-status.js';
import { parallelChecks, type Cycle } from './cycle.js';

/** Each agent's list of running executions is a quick read: an agent that does not answer in time is skipped. */
const listTimeoutMs = 5000;

/**
 * Asks every agent what it is running and stops each run whose execution has ended, or that has
 * no row and no open workflow: a process whose agent was unreachable when its run ended, a Terminate
 * reconciled while the agent was away, an agent that froze and came back. So no agent process
 * outlives its row by more than one cycle once its agent answers again (DESIGN §4, stops owed).
 * Stopping is asked, not waited for: the agent ends the process in its own grace time.
 */
export async function stopOrphanProcesses(cycle: Cycle): Promise<void> {
  const { deps, dryRun, report } = cycle;
  await forEachConcurrently(await deps.agents.list({ withRemoved: true }), parallelChecks, async ({ name }) => {
    const agent = await deps.agents.getRegistration(name);
    if (!agent) return;
    const client = await deps.agentClient(agent, listTimeoutMs).catch((err: Error) => {
      // Its token does not resolve on this worker: the message names the reference, never a token.
      deps.repeatedWarnings.warn(
        deps.log,
        `agent-client:${name}`,
        { agent: name, err: err.message },
        'cannot call the agent to list its runs',
      );
      return undefined;
    });
    if (!client) return;
    const running = await client.listRunning().catch((err: Error) => {
      deps.log.debug({ agent: name, err: err.message }, 'agent did not list its runs; its orphans wait for the next cycle');
      return undefined;
    });
    if (!running || running.length === 0) return;
    const statuses = await deps.executions.statuses(running.map((run) => run.id));
    for (const { id } of running) {
      const status = statuses.get(id);
      try {
        if (status !== undefined && !isTerminal(status)) continue;
        const workflow = status === undefined ? await cycle.describe(id) : 'COMPLETED';
        if (isWorkflowOpen(workflow)) continue;
        if (!dryRun) {
          await client.stop(id);
          deps.metrics.recovered('orphan_process_stopped');
        }
        report.recoveries.push({ executionId: id, agent: name, workflow, action: 'process_stopped', status });
      } catch (err) {
        cycle.fail(id, err);
      }
    }
  });
}
