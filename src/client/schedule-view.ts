import type { ScheduleDescription, ScheduleExecutionResult, ScheduleSummary } from '@temporalio/client';
import { z } from 'zod';
import type { BusyPolicy } from '../domain/execution-types.js';
import { defaultTenant } from '../domain/tenants.js';
import type { OverlapPolicy, ScheduleDefinition } from './schedule-input.js';
import type { ExecutionInput } from '../contract/execution-contract.js';

/**
 * Stored in the schedule's memo: Temporal turns a cron expression into calendar specs and lists
 * schedules without their action, so the schedule as given and its agent are kept here.
 */
const memoSchema = z.object({
  agent: z.string(),
  /** Absent in schedules made before tenants: \`default\`. */
  tenant: z.string().optional(),
  taskQueue: z.string(),
  cron: z.string().optional(),
  intervalSeconds: z.number().optional(),
  timezone: z.string(),
});
export type ScheduleMemo = z.infer<typeof memoSchema>;

export function scheduleMemo(s: ScheduleDefinition, taskQueue: string): ScheduleMemo {
  return {
    agent: s.agent,
    tenant: s.tenant ?? defaultTenant,
    taskQueue,
    ...(s.cron === undefined ? { intervalSeconds: s.intervalSeconds } : { cron: s.cron }),
    timezone: s.timezone,
  };
}

export function readScheduleMemo(memo: Record<string, unknown> | undefined): ScheduleMemo | undefined {
  const parsed = memoSchema.safeParse(memo);
  return parsed.success ? parsed.data : undefined;
}

/** One fire of a schedule: the execution id is the workflow id Temporal gave that fire. */
export interface ScheduleFire {
  scheduledAt: Date;
  takenAt: Date;
  executionId: string;
}

export interface AgentScheduleSummary {
  scheduleId: string;
  agent: string;
  tenant: string;
  cron?: string;
  intervalSeconds?: number;
  timezone: string;
  paused: boolean;
  note?: string;
  nextFireTimes: Date[];
  recentFires: ScheduleFire[];
}

export interface AgentScheduleDescription extends AgentScheduleSummary {
  prompt: string;
  timeoutSeconds?: number;
  busyPolicy: BusyPolicy;
  idleTimeoutSeconds?: number;
  maxCostUsd?: number;
  overlap: OverlapPolicy;
  taskQueue: string;
  /** Fires that started an execution since the schedule was created. */
  fireCount: number;
  /** Fires Temporal skipped because an earlier fire was still running (overlap policy `skip`). */
  skippedOverlapCount: number;
  runningExecutionIds: string[];
  createdAt: Date;
}

const fires = (results: ScheduleExecutionResult[]): ScheduleFire[] =>
  results.map((r) => ({
    scheduledAt: r.scheduledAt,
    takenAt: r.takenAt,
    executionId: r.action.workflow.workflowId,
  }));

export function summaryView(s: ScheduleSummary, memo: ScheduleMemo): AgentScheduleSummary {
  return {
    scheduleId: s.scheduleId,
    agent: memo.agent,
    tenant: memo.tenant ?? defaultTenant,
    cron: memo.cron,
    intervalSeconds: memo.intervalSeconds,
    timezone: memo.timezone,
    paused: s.state.paused,
    note: s.state.note,
    nextFireTimes: s.info.nextActionTimes,
    recentFires: fires(s.info.recentActions),
  };
}

export function descriptionView(d: ScheduleDescription, memo: ScheduleMemo): AgentScheduleDescription {
  const input = d.action.args?.[0] as ExecutionInput;
  return {
    scheduleId: d.scheduleId,
    agent: input.agent,
    tenant: input.tenant ?? defaultTenant,
    prompt: input.prompt,
    cron: memo.cron,
    intervalSeconds: memo.intervalSeconds,
    timezone: memo.timezone,
    timeoutSeconds: input.timeoutSeconds,
    busyPolicy: input.busyPolicy,
    idleTimeoutSeconds: input.idleTimeoutSeconds,
    maxCostUsd: input.maxCostUsd,
    // The server's default when none was set is SKIP.
    overlap: (d.policies.overlap?.toLowerCase() ?? 'skip') as OverlapPolicy,
    taskQueue: d.action.taskQueue,
    paused: d.state.paused,
    note: d.state.note,
    nextFireTimes: d.info.nextActionTimes,
    recentFires: fires(d.info.recentActions),
    fireCount: d.info.numActionsTaken,
    skippedOverlapCount: d.info.numActionsSkippedOverlap,
    runningExecutionIds: d.info.runningActions.map((a) => a.workflow.workflowId),
    createdAt: d.info.createdAt,
  };
}
