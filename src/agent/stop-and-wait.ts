import type { AgentClient } from './agent-client.js';
import { AgentError, StopPendingError } from './agent-errors.js';
import type { AgentExecution } from './protocol.js';

/**
 * Asks the agent to stop an execution and waits, at most `waitSeconds`, until it reports the
 * process ended. Returns the last record, or undefined when the agent does not know the execution;
 * throws StopPendingError when the process is still running at the end of the wait.
 */
export async function stopAndWait(client: AgentClient, executionId: string, waitSeconds: number): Promise<AgentExecution | undefined> {
  const deadline = AbortSignal.timeout(waitSeconds * 1000);
  const pending = () => new StopPendingError(`execution ${executionId} still running ${waitSeconds} s after stop`);
  try {
    let exec = await client.stop(executionId, deadline);
    while (exec?.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (deadline.aborted) throw pending();
      exec = await client.get(executionId, deadline);
    }
    return exec;
  } catch (err) {
    // The wait ran out in the middle of a request: the process was still running when last asked.
    if (deadline.aborted && !(err instanceof AgentError)) throw pending();
    throw err;
  }
}
