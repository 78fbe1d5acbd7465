import type { AgentClient } from '../agent/agent-client.js';
import type { ExecutionSettings } from '../config/config.js';
import type { CapacitySlots } from '../slots/capacity-slots.js';
import type { AgentStore, AgentWithToken } from '../store/agent-store.js';
import type { ExecutionStore } from '../store/execution-store.js';
import type { Logger } from '../util/logger.js';
import type { Notifier } from './notifier.js';

/** Everything activities touch, passed in so tests can hand over real or test instances. */
export interface ActivityDeps {
  executions: ExecutionStore;
  agents: AgentStore;
  slots: CapacitySlots;
  agentClient: (agent: AgentWithToken) => AgentClient;
  notifier: Notifier;
  settings: ExecutionSettings;
  log: Logger;
  clock: () => number;
}
