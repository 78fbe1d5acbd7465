/** Where an agent says a run is (the agent protocol's `status`, agent/protocol.ts). */
export const agentRunStatuses = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type AgentRunStatus = (typeof agentRunStatuses)[number];
