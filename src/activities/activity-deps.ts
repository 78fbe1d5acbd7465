import type { WorkflowClient } from '@temporalio/client';
import type { AgentClient } from '../agent/agent-client.js';
import type { Alerter } from '../alerts/webhook.js';
import type { ExecutionSettings } from '../config/config.js';
import type { LifelineMetrics } from '../metrics/lifeline-metrics.js';
import type { FullSweepTurns } from '../reconciler/full-sweep-turns.js';
import type { CapacitySlots } from '../slots/capacity-slots.js';
import type { AgentStore, AgentWithToken } from '../store/agent-store.js';
import type { ExecutionStore } from '../store/execution-store.js';
import type { Logger } from '../util/logger.js';

/** Everything activities touch, passed in so tests can hand over real or test instances. */
export interface ActivityDeps {
  executions: ExecutionStore;
  agents: AgentStore;
  slots: CapacitySlots;
  agentClient: (agent: AgentWithToken) => AgentClient;
  /** For the reconciler, which asks Temporal whether a workflow is still running. */
  workflows: WorkflowClient;
  alerter: Alerter;
  metrics: LifelineMetrics;
  settings: ExecutionSettings;
  reconcileGraceSeconds: number;
  /** Which reconcile cycle does the next full sweep, shared by every worker through Redis. */
  fullSweeps: FullSweepTurns;
  log: Logger;
  clock: () => number;
}
