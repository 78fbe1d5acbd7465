import type { AgentClient } from './agent-client.js';
import type { AgentExecution } from './protocol.js';

/**
 * Asks the agent to stop an execution and waits, at most `waitSeconds`, until it reports the
 * process ended. Returns the last record, or undefined when the agent does not know the execution.
 */
export async function stopAndWait(client: AgentClient, executionId: string, waitSeconds: number): Promise<AgentExecution | undefined> {
  const signal = AbortSignal.timeout(waitSeconds * 1000);
  let exec = await client.stop(executionId, signal);
  while (exec?.status === 'running') {
    if (signal.aborted) throw new Error(`execution ${executionId} still running ${waitSeconds} s after stop`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    exec = await client.get(executionId, signal);
  }
  return exec;
}
