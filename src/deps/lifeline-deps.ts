import type { WorkflowClient } from '@temporalio/client';
import type { AgentClient } from '../agent/agent-client.js';
import type { StandingAlerts } from '../alerts/standing-alerts.js';
import type { Alerter } from '../alerts/webhook.js';
import type { LifelineSettings } from '../config/config.js';
import type { LifelineMetrics } from '../metrics/lifeline-metrics.js';
import type { CapacitySlots } from '../slots/capacity-slots.js';
import type { AgentRegistration, AgentStore } from '../store/agent-store.js';
import type { ExecutionStore } from '../store/execution-store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { TenantSettings } from '../domain/tenants.js';
import type { Logger } from '../util/logger.js';
import type { RepeatedWarnings } from '../util/repeated-warnings.js';

/** Whose turn it is to run a full reconcile sweep, shared by every worker (reconciler/full-sweep-turns.ts). */
export interface FullSweepTurns {
  intervalSeconds: number;
  /** True when this cycle must sweep; Redis out of reach also says true, the safe side. */
  claim(): Promise<boolean>;
  /** A sweep that did not finish hands its turn to the next cycle rather than wait an interval. */
  giveBack(): Promise<void>;
}

/**
 * Everything that does I/O for an execution or a reconcile cycle: the activities, the reconciler and
 * the CLI's `reconcile` take this one set, built once from configuration (build-lifeline-deps.ts),
 * and tests hand over real instances of their own.
 */
export interface LifelineDeps {
  executions: ExecutionStore;
  agents: AgentStore;
  /** Tenants' settings as they are now (admission, the CLI). */
  tenants: TenantStore;
  /** Tenants' settings read at most once per poll interval per tenant (a queued wait's every try). */
  tenantSettings: (tenant: string) => Promise<TenantSettings>;
  slots: CapacitySlots;
  /**
   * An agent's HTTP client, its token resolved now (AgentTokenError when its reference does not
   * resolve); each request gives up after `requestTimeoutMs` (default 10 s).
   */
  agentClient: (agent: AgentRegistration, requestTimeoutMs?: number) => Promise<AgentClient>;
  /** For the reconciler, which asks Temporal whether a workflow is still running. */
  workflows: WorkflowClient;
  /** Lifeline's workflow task queue, whose pollers tell the reconciler which builds still have workers. */
  taskQueue: string;
  alerter: Alerter;
  /** For conditions that last: each alerted once per LIFELINE_ALERT_REPEAT_SECONDS, whichever worker sees it. */
  standingAlerts: StandingAlerts;
  metrics: LifelineMetrics;
  settings: LifelineSettings;
  /** Which reconcile cycle does the next full sweep, shared by every worker through Redis. */
  fullSweeps: FullSweepTurns;
  log: Logger;
  /** For warnings met on every cycle or poll while a condition lasts: once an hour per condition, counted. */
  repeatedWarnings: RepeatedWarnings;
  clock: () => number;
  /** Aborted when the worker starts shutting down: long activities hand their work to another worker. */
  draining: AbortSignal;
}
