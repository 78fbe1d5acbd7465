import { ApplicationFailure } from '@temporalio/activity';
import type { AgentClient } from '../agent/agent-client.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';

/** The HTTP client of a registered agent; an unknown agent is bad input, never worth a retry. */
export function agentClientFor(deps: Pick<LifelineDeps, 'agents' | 'agentClient'>) {
  return async (agentName: string, requestTimeoutMs?: number): Promise<AgentClient> => {
    const agent = await deps.agents.getWithToken(agentName);
    if (!agent) {
      throw ApplicationFailure.create({ type: 'invalid_input', message: `agent: unknown agent "${agentName}"`, nonRetryable: true });
    }
    return deps.agentClient(agent, requestTimeoutMs);
  };
}
