import { ApplicationFailure } from '@temporalio/activity';
import type { AgentClient } from '../agent/agent-client.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';

/**
 * The HTTP client of a registered agent, its token resolved on this worker. An unknown agent is bad
 * input and a token that does not resolve a misconfigured agent (AgentTokenError): never worth a retry.
 */
export function agentClientFor(deps: Pick<LifelineDeps, 'agents' | 'agentClient'>) {
  return async (agentName: string, requestTimeoutMs?: number): Promise<AgentClient> => {
    const agent = await deps.agents.getRegistration(agentName);
    if (!agent) {
      throw ApplicationFailure.create({ type: 'invalid_input', message: `agent: unknown agent "${agentName}"`, nonRetryable: true });
    }
    return deps.agentClient(agent, requestTimeoutMs);
  };
}
