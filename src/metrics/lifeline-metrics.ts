import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UsageReport } from '../domain/usage.js';
import { createTenantLabels } from './tenant-label.js';

/** Tenants named in metric labels unless LIFELINE_METRICS_TENANTS says otherwise. */
export const defaultTopTenants = 20;

const durationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

export type LifelineMetrics = ReturnType<typeof createLifelineMetrics>;

/**
 * A gauge per agent read at scrape time from the source given, so it shows Redis or Postgres as they
 * are, not as this worker last saw them: every worker reports the same, whole figure.
 */
function perAgentGauge(registry: Registry, name: string, help: string, read: (() => Promise<Record<string, number>>) | undefined) {
  new Gauge({
    name,
    help,
    labelNames: ['agent'],
    registers: [registry],
    async collect() {
      if (!read) return;
      this.reset();
      // A source that is down leaves the series out of this scrape, not the whole endpoint failing.
      const counts = await read().catch(() => ({}));
      for (const [agent, n] of Object.entries(counts)) this.set({ agent }, n);
    },
  });
}

/** Lifeline's own Prometheus series. */
export function createLifelineMetrics(
  opts: {
    slotsInUse?: () => Promise<Record<string, number>>;
    awaitingWorker?: () => Promise<Record<string, number>>;
    stuck?: () => Promise<number>;
    /** How many of the busiest tenants label series by name; the others are \`other\` (tenant-label.ts). */
    topTenants?: number;
  } = {},
) {
  const registry = new Registry();
  const tenantLabel = createTenantLabels(opts.topTenants ?? defaultTopTenants);
  const started = new Counter({
    name: 'lifeline_executions_started_total',
    help: 'Executions recorded (queued), by agent and tenant',
    labelNames: ['agent', 'tenant'],
    registers: [registry],
  });
  const finished = new Counter({
    name: 'lifeline_executions_finished_total',
    help: 'Executions that reached a terminal status, by agent, tenant, status and error kind',
    labelNames: ['agent', 'tenant', 'status', 'error_kind'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'lifeline_execution_duration_seconds',
    help: 'Time from running to terminal, by agent and status',
    labelNames: ['agent', 'status'],
    buckets: durationBuckets,
    registers: [registry],
  });
  const waitHistogram = (name: string, help: string) =>
    new Histogram({ name, help, labelNames: ['agent'], buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600], registers: [registry] });
  const queueWait = waitHistogram('lifeline_queue_wait_seconds', 'Time from queued to running, by agent');
  const workerWait = waitHistogram(
    'lifeline_worker_wait_seconds',
    'Time from taking the capacity slot to a worker starting the run on the agent, by agent',
  );
  const recoveries = new Counter({
    name: 'lifeline_reconciler_recoveries_total',
    help: 'Rows finalized or leases released by the reconciler, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const cycleDuration = new Histogram({
    name: 'lifeline_reconcile_cycle_seconds',
    help: 'Reconcile cycles by kind (full sweep or anomalies only) and how long each took',
    labelNames: ['sweep'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const described = new Counter({
    name: 'lifeline_reconcile_workflows_described_total',
    help: 'Workflows the reconciler asked Temporal about one by one, by kind of cycle',
    labelNames: ['sweep'],
    registers: [registry],
  });
  const stalled = new Counter({
    name: 'lifeline_runs_stalled_total',
    help: 'Runs stopped because their agent reported no progress within their idle timeout, by agent',
    labelNames: ['agent'],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'lifeline_agent_tokens_total',
    help: 'Tokens used by executions that ended, as their agent last reported them, by agent and direction (input or output)',
    labelNames: ['agent', 'direction'],
    registers: [registry],
  });
  const cost = new Counter({
    name: 'lifeline_agent_cost_total',
    help: 'Cost of executions that ended, as their agent last reported it, by agent, tenant and currency',
    labelNames: ['agent', 'tenant', 'currency'],
    registers: [registry],
  });
  perAgentGauge(registry, 'lifeline_slots_in_use', 'Capacity slot leases held, by agent', opts.slotsInUse);
  perAgentGauge(
    registry,
    'lifeline_runs_awaiting_worker',
    'Executions holding a capacity slot that no worker has started yet (every worker busy), by agent',
    opts.awaitingWorker,
  );

  const { stuck } = opts;
  new Gauge({
    name: 'lifeline_executions_stuck',
    help: 'Executions that cannot make progress: their workflow task keeps failing, or no worker polls their build (read at scrape time)',
    registers: [registry],
    async collect() {
      this.reset();
      const count = await stuck?.().catch(() => undefined);
      if (count !== undefined) this.set(count);
    },
  });

  return {
    registry,
    executionStarted(agent: string, tenant: string) {
      started.inc({ agent, tenant: tenantLabel(tenant) });
    },
    executionFinished(agent: string, tenant: string, status: string, errorKind: string | undefined, runningSeconds: number | undefined) {
      finished.inc({ agent, tenant: tenantLabel(tenant), status, error_kind: errorKind ?? '' });
      if (runningSeconds !== undefined) duration.observe({ agent, status }, runningSeconds);
    },
    queueWaited(agent: string, seconds: number) {
      queueWait.observe({ agent }, seconds);
    },
    workerWaited(agent: string, seconds: number) {
      workerWait.observe({ agent }, seconds);
    },
    runStalled(agent: string) {
      stalled.inc({ agent });
    },
    /** Counted once, when the execution's terminal status is written: the last report is the run's total. */
    usageUsed(agent: string, tenant: string, usage: UsageReport) {
      if (usage.inputTokens !== undefined) tokens.inc({ agent, direction: 'input' }, usage.inputTokens);
      if (usage.outputTokens !== undefined) tokens.inc({ agent, direction: 'output' }, usage.outputTokens);
      if (usage.cost) cost.inc({ agent, tenant: tenantLabel(tenant), currency: usage.cost.currency }, usage.cost.amount);
    },
    recovered(reason: string) {
      recoveries.inc({ reason });
    },
    reconcileCycle(sweep: string, seconds: number, workflowsDescribed: number) {
      cycleDuration.observe({ sweep }, seconds);
      described.inc({ sweep }, workflowsDescribed);
    },
  };
}
