import { createAgentClient } from '../../src/agent/agent-client.js';
import type { AgentExecution } from '../../src/agent/protocol.js';
import { waitUntil } from '../../src/util/wait-until.js';
import type { Harness } from './lifeline-harness.js';

export { probePid } from '../../tools/processes/process-probe.js';

/** What the agent server itself reports for one execution (its process pid, status, exit code). */
export async function agentRun(h: Harness, agentKey: string, executionId: string): Promise<AgentExecution | undefined> {
  return agentClient(h, agentKey).get(executionId);
}

function agentClient(h: Harness, agentKey: string) {
  const agent = h.agent(agentKey);
  const token = h.agentServerConfig.agents[agent]?.token;
  if (!token) throw new Error(`no token for agent ${agent}`);
  return createAgentClient({ baseUrl: h.agentServer().baseUrlFor(agent), token });
}

/** The executions the agent server reports running a process for. */
export async function runningOnAgent(h: Harness, agentKey: string): Promise<string[]> {
  return (await agentClient(h, agentKey).listRunning()).map((run) => run.id);
}

/** Waits until the row is `running` and the agent reports a live process for it; returns that pid. */
export async function waitForAgentProcess(h: Harness, agentKey: string, executionId: string, timeoutMs = 30_000): Promise<number> {
  return waitUntil(
    async () => {
      const row = await h.executions.get(executionId);
      if (row?.status !== 'running') return undefined;
      const run = await agentRun(h, agentKey, executionId);
      return run?.status === 'running' ? run.pid : undefined;
    },
    { what: `execution ${executionId} to run on the agent`, timeoutMs, intervalMs: 50 },
  );
}

/** Waits until the run's process has printed something: a stop now finds it past its start-up. */
export async function waitForAgentOutput(h: Harness, agentKey: string, executionId: string): Promise<void> {
  await waitUntil(async () => ((await agentRun(h, agentKey, executionId))?.outputBytes ?? 0) > 0, {
    what: `execution ${executionId} to print on the agent`,
    timeoutMs: 10_000,
    intervalMs: 50,
  });
}

/**
 * Freezes a run's processes (SIGSTOP to its process group, which `pid` leads) until `thaw`: the run
 * cannot end meanwhile, however long what the test does takes on a loaded machine. A demo run then
 * ends as soon as its time has passed.
 */
export function freezeRun(pid: number): { thaw(): void } {
  process.kill(-pid, 'SIGSTOP');
  return { thaw: () => process.kill(-pid, 'SIGCONT') };
}

/** The audit log of an execution as `from>to` steps, `-` standing for "no previous status". */
export async function auditSteps(h: Harness, executionId: string): Promise<string[]> {
  const audit = await h.executions.transitions(executionId);
  return audit.map((t) => `${t.fromStatus ?? '-'}>${t.toStatus}`);
}

/** The ids holding a capacity lease on the agent. */
export async function leaseHolders(h: Harness, agentKey: string): Promise<string[]> {
  return (await h.slots.leases(h.agent(agentKey))).map((l) => l.executionId);
}

/** Starts a run on the agent directly, as if Lifeline had lost track of it. */
export async function startOnAgent(h: Harness, agentKey: string, executionId: string, prompt: string): Promise<AgentExecution> {
  return agentClient(h, agentKey).start({ id: executionId, prompt, timeoutSeconds: 600 });
}

/** Stops the run on the agent directly (SIGTERM now), as if someone stopped it there, bypassing Lifeline. */
export async function stopOnAgent(h: Harness, agentKey: string, executionId: string): Promise<AgentExecution | undefined> {
  return agentClient(h, agentKey).stop(executionId);
}

/** Waits until the execution neither holds a capacity lease nor waits in the agent's queue. */
export async function waitForSlotReleased(h: Harness, agentKey: string, executionId: string, timeoutMs = 15_000): Promise<void> {
  await waitUntil(
    async () => {
      const agent = h.agent(agentKey);
      const [leases, waiting] = await Promise.all([h.slots.leases(agent), h.slots.waiting(agent)]);
      return !leases.some((l) => l.executionId === executionId) && !waiting.includes(executionId);
    },
    { what: `execution ${executionId} to give its capacity slot back`, timeoutMs, intervalMs: 50 },
  );
}

/**
 * Resolves once Temporal holds a heartbeat of the run activity: from then on a retry re-attaches
 * to the agent process, and the run needs neither Postgres nor Redis until it ends.
 */
export async function waitForRunHeartbeat(h: Harness, executionId: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      const { raw } = await h.temporal.workflow.getHandle(executionId).describe();
      return (raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'runAgent' && a.lastHeartbeatTime);
    },
    { what: `a heartbeat of the run of ${executionId}`, timeoutMs },
  );
}
