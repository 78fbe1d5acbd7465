import type pg from 'pg';
import type { Actor, ErrorKind, ExecutionStatus } from '../domain/execution-status.js';
import type { BusyPolicy } from '../domain/execution-types.js';
import type { UsageReport } from '../domain/usage.js';

export interface ExecutionRow {
  id: string;
  agent: string;
  /** The team it runs for (DESIGN: Tenants); `default` when it named none. */
  tenant: string;
  status: ExecutionStatus;
  prompt: string;
  trigger: string;
  scheduleId: string | null;
  busyPolicy: BusyPolicy;
  timeoutSeconds: number;
  /** No reported progress for this long stops the run (agent_stalled); null: no idle timeout. */
  idleTimeoutSeconds: number | null;
  /** A reported cost in USD above this stops the run (budget_exceeded); null: no budget. */
  maxCostUsd: number | null;
  metadata: Record<string, unknown>;
  output: string | null;
  outputBytes: number | null;
  outputTruncated: boolean;
  exitCode: number | null;
  errorKind: ErrorKind | null;
  error: string | null;
  createdAt: Date;
  /** When a queued execution took its capacity slot: set and still `queued` means waiting for a worker. */
  slotAcquiredAt: Date | null;
  /** When a worker first sent the agent the start; still `queued` with this set: starting, not yet accepted. */
  startSentAt: Date | null;
  /** When the agent accepted the start (the row turned `running`). */
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The agent's last progress time, as the run activity last copied it; null for agents that report none. */
  lastProgressAt: Date | null;
  /** The agent's last usage report (running totals); null for agents that report none. */
  usage: UsageReport | null;
  /** The OpenTelemetry trace of its spans (32 hex digits); null when its worker did not trace. */
  traceId: string | null;
}

/** Admitted executions (slot held) that no worker has started yet, per agent. */
export interface WorkerWait {
  agent: string;
  count: number;
  /** Since when the oldest of them has waited. */
  oldestSince: Date;
}

export interface TransitionRecord {
  fromStatus: ExecutionStatus | null;
  toStatus: ExecutionStatus;
  actor: Actor;
  reason: string | null;
  at: Date;
}

/** What the reconciler reads of a live row. */
export type LiveRow = Pick<ExecutionRow, 'id' | 'agent' | 'status' | 'createdAt' | 'slotAcquiredAt'>;

/** A row without its prompt and output: what listings show. */
export type ExecutionSummary = Pick<
  ExecutionRow,
  | 'id'
  | 'agent'
  | 'tenant'
  | 'status'
  | 'trigger'
  | 'scheduleId'
  | 'errorKind'
  | 'error'
  | 'createdAt'
  | 'startSentAt'
  | 'startedAt'
  | 'finishedAt'
  | 'usage'
>;

export interface ExecutionFilter {
  agent?: string;
  tenant?: string;
  status?: ExecutionStatus;
  scheduleId?: string;
  /** Only rows created within this many seconds. */
  sinceSeconds?: number;
  limit: number;
}

export const rowColumns = `id, agent, tenant, status, prompt, trigger, schedule_id AS "scheduleId", busy_policy AS "busyPolicy",
  timeout_seconds AS "timeoutSeconds", idle_timeout_seconds AS "idleTimeoutSeconds",
  max_cost_usd::float8 AS "maxCostUsd", metadata, output, output_bytes::float8 AS "outputBytes",
  output_truncated AS "outputTruncated", exit_code AS "exitCode", error_kind AS "errorKind", error,
  created_at AS "createdAt", slot_acquired_at AS "slotAcquiredAt", start_sent_at AS "startSentAt", started_at AS "startedAt",
  finished_at AS "finishedAt", last_progress_at AS "lastProgressAt", usage, trace_id AS "traceId"`;

const summaryColumns = `id, agent, tenant, status, trigger, schedule_id AS "scheduleId", error_kind AS "errorKind", error,
  created_at AS "createdAt", start_sent_at AS "startSentAt", started_at AS "startedAt", finished_at AS "finishedAt", usage`;

export type ExecutionReader = ReturnType<typeof createExecutionReader>;

/** What the client, the CLI and dashboards read: rows, listings and the audit trail; no writes. */
export function createExecutionReader(pool: pg.Pool) {
  return {
    async get(id: string): Promise<ExecutionRow | undefined> {
      const { rows } = await pool.query<ExecutionRow>(`SELECT ${rowColumns} FROM executions WHERE id = $1`, [id]);
      return rows[0];
    },

    /** The status of each of these executions that has a row, in one query. */
    async statuses(ids: readonly string[]): Promise<Map<string, ExecutionStatus>> {
      const { rows } = await pool.query<{ id: string; status: ExecutionStatus }>(
        'SELECT id, status FROM executions WHERE id = ANY($1::text[])',
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r.status]));
    },

    /**
     * Every live row created before `olderThanSeconds` ago, oldest first. Served by the partial
     * index on live rows, so the cost follows running work, not history. No cap: the reconciler
     * must see them all, or a row past the cap would stay live unseen.
     */
    async listLive(olderThanSeconds: number): Promise<LiveRow[]> {
      const { rows } = await pool.query<LiveRow>(
        `SELECT id, agent, status, created_at AS "createdAt", slot_acquired_at AS "slotAcquiredAt" FROM executions
         WHERE status IN ('queued', 'running') AND created_at < now() - make_interval(secs => $1)
         ORDER BY created_at`,
        [olderThanSeconds],
      );
      return rows;
    },

    /** How many of an agent's executions are queued or running (the live-rows index serves it). */
    async liveCount(agent: string): Promise<number> {
      const { rows } = await pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM executions WHERE status IN ('queued', 'running') AND agent = $1`,
        [agent],
      );
      return rows[0]!.count;
    },

    /** Admitted executions waiting for a worker, per agent (the live-rows index serves it). */
    async awaitingWorker(): Promise<WorkerWait[]> {
      const { rows } = await pool.query<WorkerWait>(
        `SELECT agent, count(*)::int AS count, min(slot_acquired_at) AS "oldestSince" FROM executions
         WHERE status = 'queued' AND slot_acquired_at IS NOT NULL AND start_sent_at IS NULL
         GROUP BY agent ORDER BY agent`,
      );
      return rows;
    },

    /**
     * Newest first. Only the given filters become conditions, so the planner sees each query's own
     * shape and uses the agent, tenant, schedule or live-rows index that fits it.
     */
    async list(filter: ExecutionFilter): Promise<ExecutionSummary[]> {
      const params: unknown[] = [];
      const where: string[] = [];
      const condition = (sql: (param: string) => string, value: unknown) => {
        params.push(value);
        where.push(sql(`$${params.length}`));
      };
      if (filter.agent !== undefined) condition((p) => `agent = ${p}`, filter.agent);
      if (filter.tenant !== undefined) condition((p) => `tenant = ${p}`, filter.tenant);
      if (filter.status !== undefined) condition((p) => `status = ${p}::execution_status`, filter.status);
      if (filter.scheduleId !== undefined) condition((p) => `schedule_id = ${p}`, filter.scheduleId);
      if (filter.sinceSeconds !== undefined) condition((p) => `created_at >= now() - make_interval(secs => ${p})`, filter.sinceSeconds);
      params.push(filter.limit);
      const { rows } = await pool.query<ExecutionSummary>(
        `SELECT ${summaryColumns} FROM executions ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC LIMIT $${params.length}`,
        params,
      );
      return rows;
    },

    async transitions(id: string): Promise<TransitionRecord[]> {
      const { rows } = await pool.query<TransitionRecord>(
        `SELECT from_status AS "fromStatus", to_status AS "toStatus", actor, reason, at
         FROM execution_transitions WHERE execution_id = $1 ORDER BY id`,
        [id],
      );
      return rows;
    },
  };
}
