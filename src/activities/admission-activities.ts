import { ApplicationFailure } from '@temporalio/activity';
import { admissibleInput } from '../contract/foreign-input.js';
import type { ExecutionStatus } from '../domain/execution-status.js';
import type { ExecutionPlan } from '../domain/execution-types.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { infrastructureBoundSeconds } from '../domain/failure-classes.js';
import { invalidRunLimits } from '../domain/run-limits.js';
import { isStorableJson, isStorableText, unstorableTextMessage } from '../domain/storable-text.js';
import { newExecutionRow } from '../store/new-execution-row.js';
import { defaultTenant, type TenantSettings } from '../domain/tenants.js';
import { budgetMessage, spentBudget } from '../domain/tenant-budget.js';
import { shareOf } from '../slots/tenant-shares.js';
import { activeTraceId } from '../tracing/spans.js';
import { activityLogger } from './activity-logger.js';
import { markRunning } from './mark-running.js';
import { classified } from './step-failure.js';
import type { ExecutionInput } from '../contract/execution-contract.js';

/**
 * The steps from a started workflow to an admitted one. They run as local activities inside the
 * workflow task, so a re-run after a lost task must land where the first run did: every step here
 * is idempotent and a row already `running` is this workflow's own (ids are never reused).
 */
export function createAdmissionActivities(deps: LifelineDeps) {
  const { executions, agents, slots } = deps;
  const settings = deps.settings.execution;

  return {
    /**
     * Records the `queued` row and makes one try for a capacity slot. The plan says where that left
     * the execution: its row's status (terminal: nothing left to do) and whether it holds a slot.
     */
    async admit(input: ExecutionInput & { executionId: string }): Promise<ExecutionPlan> {
      return classified(() => admit(input), infrastructureBoundSeconds);
    },

    /**
     * Executions admitted before the run activity marked its own row running (the workflow's
     * `running-when-agent-has-it` patch) still call this after their slot wait; replay needs it.
     */
    async markRunning(input: { executionId: string; agent: string }): Promise<ExecutionStatus> {
      return classified(() => markRunning(deps, input.executionId, input.agent, 'capacity slot acquired'), infrastructureBoundSeconds);
    },
  };

  async function admit(started: ExecutionInput & { executionId: string }): Promise<ExecutionPlan> {
    const { executionId, ...fields } = started;
    // Lifeline's client checked all of this; a start some other way (contract/execution.schema.json) may not have.
    const admissible = admissibleInput(fields);
    if ('violations' in admissible)
      throw ApplicationFailure.create({ type: 'invalid_input', message: admissible.violations, nonRetryable: true });
    const { input } = admissible;
    const agent = await agents.get(input.agent);
    if (!agent) {
      throw ApplicationFailure.create({ type: 'invalid_input', message: `agent: unknown agent "${input.agent}"`, nonRetryable: true });
    }
    // Read as it is now: a change made with `lifeline tenants set` applies from the next admission.
    const tenant = await deps.tenants.get(input.tenant ?? defaultTenant);
    const share = shareOf(tenant);
    const overBudget = await overBudgetMessage(tenant);
    // Lifeline's client refuses such input; a start some other way still gets a row, which says why it failed.
    const unstorable = unstorableFields(input);
    const badLimits = invalidRunLimits(input);
    // The row holds the idle timeout the run is judged by: the execution's own, else its agent's default.
    const { created, row } = await executions.create({
      ...newExecutionRow(executionId, input, agent, settings.defaultTimeoutSeconds),
      traceId: activeTraceId(),
    });
    const log = activityLogger(deps.log, { executionId, agent: input.agent });
    if (created) {
      deps.metrics.executionStarted(input.agent, tenant.name);
      log.info('execution recorded as queued');
    }
    const rejections = [...(unstorable.length > 0 ? [`${unstorable.join(', ')}: ${unstorableTextMessage}`] : []), ...badLimits];
    const rejected = rejections.length > 0 ? rejections.join('; ') : undefined;
    let slotHeld =
      row.status === 'running' ||
      (row.status === 'queued' &&
        !rejected &&
        !overBudget &&
        (await slots.tryAcquire(input.agent, executionId, agent.capacity, input.busyPolicy, share)));
    // The row stays queued until a worker has the agent start the run (markRunning in the run activity).
    if (slotHeld && row.status === 'queued') {
      await executions.slotAcquired(executionId);
      slotHeld = await slotStillHeld(deps, input.agent, executionId, () =>
        slots.tryAcquire(input.agent, executionId, agent.capacity, input.busyPolicy, share),
      );
    }
    return {
      status: row.status,
      slotHeld,
      capacity: agent.capacity,
      timeoutSeconds: row.timeoutSeconds,
      idleTimeoutSeconds: row.idleTimeoutSeconds,
      queueTimeoutSeconds: input.queueTimeoutSeconds ?? settings.queueTimeoutSeconds,
      heartbeatTimeoutSeconds: settings.heartbeatTimeoutSeconds,
      stopWaitSeconds: settings.stopWaitSeconds,
      tenant: { name: tenant.name, priority: tenant.priority, weight: tenant.weight },
      rejected,
      ...(overBudget !== undefined && { overBudget }),
    };
  }

  /** Why the tenant may start no run now, if it spent a budget; a tenant without budgets costs no query. */
  async function overBudgetMessage(tenant: TenantSettings): Promise<string | undefined> {
    if (tenant.dailyBudgetUsd === null && tenant.monthlyBudgetUsd === null) return undefined;
    const use = (await deps.tenants.use([tenant.name])).get(tenant.name)!;
    const spent = spentBudget(tenant, use);
    return spent && budgetMessage(tenant.name, spent);
  }
}

/**
 * After the row says it holds a slot: its lease must still be there. Redis may have lost it between
 * the acquire and the row's write, and a rebuild that read Postgres before that write did not count
 * it: then it acquires again against the rebuilt count, and without a slot the row says so again.
 */
export async function slotStillHeld(
  deps: Pick<LifelineDeps, 'slots' | 'executions'>,
  agent: string,
  executionId: string,
  acquireAgain: () => Promise<boolean>,
): Promise<boolean> {
  if (await deps.slots.renew(agent, executionId)) return true;
  if (await acquireAgain()) return true;
  await deps.executions.slotLost(executionId);
  return false;
}

/** The fields of an input that Postgres cannot store as they are. */
function unstorableFields(input: ExecutionInput): string[] {
  return [
    !isStorableText(input.prompt) && 'prompt',
    !isStorableText(input.trigger) && 'trigger',
    input.scheduleId !== undefined && !isStorableText(input.scheduleId) && 'scheduleId',
    input.metadata !== undefined && !isStorableJson(input.metadata) && 'metadata',
  ].filter((field): field is string => typeof field === 'string');
}
