import { defaultTenant } from '../domain/tenants.js';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError as TemporalScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import type pg from 'pg';

import { createAgentStore } from '../store/agent-store.js';
import { InvalidExecutionInputError, ScheduleConflictError, ScheduleNotFoundError } from './client-errors.js';
import { executionWorkflowOptions } from './execution-workflow-options.js';
import { parseScheduleRequest, type CreateScheduleRequest } from './schedule-input.js';
import {
  descriptionView,
  readScheduleMemo,
  scheduleMemo,
  summaryView,
  type AgentScheduleDescription,
  type AgentScheduleSummary,
  type ScheduleMemo,
} from './schedule-view.js';
import { defaultSchedulePolicy, shortestGapSeconds, type SchedulePolicy } from '../domain/schedule-policy.js';
import { asUnavailable, unavailableOnFailure } from './unavailable.js';
import type { ExecutionInput } from '../contract/execution-contract.js';
import { executionWorkflowType } from '../contract/execution-contract.js';

export interface AgentSchedulesOptions {
  temporal: Client;
  pool: pg.Pool;
  taskQueue: string;
  schedulePolicy?: Partial<SchedulePolicy>;
}

const tooFrequent = (minIntervalSeconds: number) =>
  `must fire at most once every ${minIntervalSeconds} s (LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS)`;

/**
 * Fires missed while Temporal or the workers were down are made up only within this window: after
 * an outage, an hourly agent runs once, not once for every hour it missed.
 */
const catchupWindow = '5 minutes';

/**
 * Temporal Schedules that start executions of an agent. Each fire starts the execution workflow
 * with the workflow id `<agent>-<scheduleId>`, to which Temporal appends the fire time: every fire
 * is its own execution, and the schedule id is on its row and its search attributes.
 */
export class AgentSchedules {
  private readonly agents;
  private readonly policy: SchedulePolicy;

  constructor(private readonly opts: AgentSchedulesOptions) {
    this.agents = createAgentStore(opts.pool);
    this.policy = { ...defaultSchedulePolicy, ...opts.schedulePolicy };
  }

  /**
   * Validates the schedule and creates it; ScheduleConflictError when the id is taken. A cron
   * expression is judged by the next fire times Temporal computes for it: the schedule is created
   * paused, checked, and then unpaused (or deleted, refused).
   */
  async create(request: CreateScheduleRequest): Promise<{ scheduleId: string }> {
    const s = parseScheduleRequest(request);
    const { minIntervalSeconds, maxPerAgent } = this.policy;
    if (s.intervalSeconds !== undefined && s.intervalSeconds < minIntervalSeconds) {
      throw new InvalidExecutionInputError([{ field: 'intervalSeconds', message: tooFrequent(minIntervalSeconds) }]);
    }
    const agent = await unavailableOnFailure('Postgres', () => this.agents.get(s.agent));
    if (!agent) throw new InvalidExecutionInputError([{ field: 'agent', message: `unknown agent "${s.agent}"` }]);
    // Temporal lists schedules eventually: two creates at once may both pass. A bound, not a quota.
    const existing = (await this.list({ agent: s.agent })).length;
    if (existing >= maxPerAgent) {
      throw new InvalidExecutionInputError([
        { field: 'agent', message: `agent "${s.agent}" has ${existing} schedules, the limit (LIFELINE_SCHEDULES_PER_AGENT)` },
      ]);
    }
    const input: ExecutionInput = {
      agent: s.agent,
      tenant: s.tenant ?? defaultTenant,
      prompt: s.prompt,
      timeoutSeconds: s.timeoutSeconds,
      busyPolicy: s.busyPolicy,
      // Only when set, as for a single execution.
      ...(s.idleTimeoutSeconds !== undefined && { idleTimeoutSeconds: s.idleTimeoutSeconds }),
      ...(s.maxCostUsd !== undefined && { maxCostUsd: s.maxCostUsd }),
      trigger: 'schedule',
      scheduleId: s.scheduleId,
    };
    try {
      await this.opts.temporal.schedule.create({
        scheduleId: s.scheduleId,
        spec: {
          ...(s.cron === undefined ? { intervals: [{ every: s.intervalSeconds! * 1000 }] } : { cronExpressions: [s.cron] }),
          timezone: s.timezone,
        },
        action: {
          type: 'startWorkflow',
          workflowType: executionWorkflowType,
          args: [input],
          workflowId: `${s.agent}-${s.scheduleId}`,
          ...executionWorkflowOptions(input, this.opts.taskQueue),
        },
        policies: { overlap: s.overlap.toUpperCase() as ScheduleOverlapPolicy, catchupWindow },
        memo: scheduleMemo(s, this.opts.taskQueue),
        // Paused until a cron expression's fire times are checked; an interval was checked above.
        state: { paused: s.paused || s.cron !== undefined, note: s.note },
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) throw new ScheduleConflictError(`schedule ${s.scheduleId} already exists`);
      // The SDK turns the server's "Invalid schedule spec" into a TypeError: the expression did not parse.
      if (err instanceof TypeError)
        throw new InvalidExecutionInputError([{ field: s.cron === undefined ? 'intervalSeconds' : 'cron', message: err.message }]);
      throw asUnavailable('Temporal', err);
    }
    if (s.cron !== undefined) await this.checkCronFires(s.scheduleId, s.paused, s.note);
    return { scheduleId: s.scheduleId };
  }

  /** Unpauses a new cron schedule whose next fires are far enough apart (unless it was asked paused); deletes it otherwise. */
  private async checkCronFires(scheduleId: string, paused: boolean, note: string | undefined): Promise<void> {
    const { minIntervalSeconds } = this.policy;
    await unavailableOnFailure('Temporal', async () => {
      const handle = this.opts.temporal.schedule.getHandle(scheduleId);
      const { nextActionTimes } = (await handle.describe()).info;
      // A date that never comes (31 February): such a schedule would sit there and never fire.
      if (nextActionTimes.length === 0) {
        await handle.delete();
        throw new InvalidExecutionInputError([{ field: 'cron', message: 'never fires: no date matches it (such as 31 February)' }]);
      }
      const gap = shortestGapSeconds(nextActionTimes);
      if (gap !== undefined && gap < minIntervalSeconds) {
        await handle.delete();
        throw new InvalidExecutionInputError([{ field: 'cron', message: `fires ${gap} s apart: ${tooFrequent(minIntervalSeconds)}` }]);
      }
      if (!paused) await handle.unpause(note ?? 'created through Lifeline');
    });
  }

  /** This task queue's agent schedules (Temporal lists schedules eventually consistently). */
  async list(filter: { agent?: string; tenant?: string } = {}): Promise<AgentScheduleSummary[]> {
    return unavailableOnFailure('Temporal', async () => {
      const found: AgentScheduleSummary[] = [];
      for await (const summary of this.opts.temporal.schedule.list()) {
        if (summary.action?.workflowType !== executionWorkflowType) continue;
        const memo = readScheduleMemo(summary.memo);
        if (memo?.taskQueue !== this.opts.taskQueue) continue;
        if (filter.agent !== undefined && memo.agent !== filter.agent) continue;
        if (filter.tenant !== undefined && (memo.tenant ?? defaultTenant) !== filter.tenant) continue;
        found.push(summaryView(summary, memo));
      }
      return found.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
    });
  }

  async describe(scheduleId: string): Promise<AgentScheduleDescription> {
    return this.withHandle(scheduleId, async (_handle, description, memo) => descriptionView(description, memo));
  }

  /** Stops fires until unpaused; the note says why, in the Temporal UI too. */
  async pause(scheduleId: string, note = 'paused through Lifeline'): Promise<void> {
    await this.withHandle(scheduleId, (h) => h.pause(note));
  }

  async unpause(scheduleId: string, note = 'unpaused through Lifeline'): Promise<void> {
    await this.withHandle(scheduleId, (h) => h.unpause(note));
  }

  /** Fires once now, even while paused or while an earlier fire still runs. */
  async trigger(scheduleId: string): Promise<void> {
    await this.withHandle(scheduleId, (h) => h.trigger());
  }

  /** Deletes the schedule; executions it already started run on. */
  async delete(scheduleId: string): Promise<void> {
    await this.withHandle(scheduleId, (h) => h.delete());
  }

  /**
   * Acts only on this task queue's agent schedules: Lifeline's own (the reconciler's) and any other
   * schedule in the namespace are not the schedule commands' to pause, trigger or delete.
   */
  private async withHandle<T>(
    scheduleId: string,
    fn: (handle: ScheduleHandle, description: ScheduleDescription, memo: ScheduleMemo) => Promise<T>,
  ): Promise<T> {
    try {
      const handle = this.opts.temporal.schedule.getHandle(scheduleId);
      const description = await handle.describe();
      const memo = readScheduleMemo(description.memo);
      if (description.action.workflowType !== executionWorkflowType || memo?.taskQueue !== this.opts.taskQueue) {
        throw new ScheduleNotFoundError(
          `schedule ${scheduleId} is not an agent schedule of task queue ${this.opts.taskQueue}; Lifeline leaves it alone`,
        );
      }
      return await fn(handle, description, memo);
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw err;
      if (err instanceof TemporalScheduleNotFoundError) throw new ScheduleNotFoundError(`schedule ${scheduleId} not found`);
      throw asUnavailable('Temporal', err);
    }
  }
}
