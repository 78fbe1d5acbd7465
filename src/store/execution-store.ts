import type pg from 'pg';
import { allowedFrom, type ExecutionStatus, type Actor, type TerminalOutcome, type TerminalStatus } from '../domain/execution-status.js';
import type { BusyPolicy } from '../domain/execution-types.js';
import { usageReport, type UsageReport } from '../domain/usage.js';
import { createExecutionReader, rowColumns, type ExecutionRow } from './execution-reader.js';
import { capOutput } from './output-cap.js';
import { createSlotHoldStore } from './slot-holds.js';
import { defaultTenant } from '../domain/tenants.js';

export interface NewExecution {
  id: string;
  agent: string;
  /** Absent: `default`. */
  tenant?: string;
  /** The trace its spans belong to, when its worker traces. */
  traceId?: string;
  prompt: string;
  trigger: string;
  scheduleId?: string;
  busyPolicy: BusyPolicy;
  timeoutSeconds: number;
  idleTimeoutSeconds?: number;
  maxCostUsd?: number;
  metadata?: Record<string, unknown>;
}

/** The columns a new row is inserted with, their parameters and values, in one order. */
const newRowColumns =
  'id, agent, prompt, trigger, schedule_id, busy_policy, timeout_seconds, metadata, idle_timeout_seconds, max_cost_usd, tenant, trace_id';
const newRowParams = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12';
const newRowValues = (input: NewExecution): unknown[] => [
  input.id,
  input.agent,
  input.prompt,
  input.trigger,
  input.scheduleId ?? null,
  input.busyPolicy,
  input.timeoutSeconds,
  JSON.stringify(input.metadata ?? {}),
  input.idleTimeoutSeconds ?? null,
  input.maxCostUsd ?? null,
  input.tenant ?? defaultTenant,
  input.traceId ?? null,
];

/**
 * An execution that Temporal accepted and that ended before any worker admitted it (no workflow
 * code ran, so no row was written): stopped by an operator, timed out by Temporal, terminated.
 */
export interface NeverAdmittedExecution {
  /** The row admission would have written, from the input of the workflow's start event. */
  row: NewExecution;
  /** The workflow's start: the row's creation and its `queued` transition. */
  acceptedAt: Date;
  to: TerminalStatus;
  change: TransitionChange;
}

/** What a running execution's agent last reported, for its row. */
export interface LiveReport {
  outputBytes?: number;
  lastProgressAt?: Date;
  usage?: UsageReport;
  /** The output's last bytes (storable, already bounded), ending at `outputBytes`. */
  outputTail?: string;
}

/** The usage column's value: checked against the protocol's schema, whoever hands it over. */
const storedUsage = (usage: UsageReport | undefined) => (usage === undefined ? null : JSON.stringify(usageReport.parse(usage)));

/** `applied: false` is the logged no-op of DESIGN §3: the row was elsewhere (or missing), nothing changed. */
export type TransitionResult =
  | {
      applied: true;
      from: ExecutionStatus;
      to: ExecutionStatus;
      createdAt: Date;
      slotAcquiredAt: Date | null;
      startedAt: Date | null;
      finishedAt: Date | null;
      /** The run's last usage report, for the metrics of an execution that ends. */
      usage: UsageReport | null;
      tenant: string;
    }
  | { applied: false; current: ExecutionStatus | undefined; to: ExecutionStatus };

export type ExecutionStore = ReturnType<typeof createExecutionStore>;

/** The writer of execution rows (the workflow's activities and the reconciler), with the reader's queries. */
export function createExecutionStore(pool: pg.Pool, options: { maxOutputBytes: number }) {
  const reader = createExecutionReader(pool);
  return {
    ...reader,
    ...createSlotHoldStore(pool),
    /**
     * Idempotent by id: a second call returns the existing row untouched. The row and its audit
     * record go in in one statement, so one round trip and one transaction.
     */
    async create(input: NewExecution): Promise<{ created: boolean; row: ExecutionRow }> {
      const values = newRowValues(input);
      const { rows } = await pool.query<ExecutionRow & { created: boolean }>(
        `WITH inserted AS (
           INSERT INTO executions (${newRowColumns}) VALUES (${newRowParams})
           ON CONFLICT (id) DO NOTHING
           RETURNING *
         ), audit AS (
           INSERT INTO execution_transitions (execution_id, from_status, to_status, actor, reason)
           SELECT id, NULL, 'queued', 'workflow', $${values.length + 1} FROM inserted
         )
         SELECT true AS created, ${rowColumns} FROM inserted
         UNION ALL
         SELECT false AS created, ${rowColumns} FROM executions WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM inserted)`,
        [...values, `created by ${input.trigger}`],
      );
      // Empty when a concurrent create committed after this statement's snapshot: read it now.
      const found = rows[0];
      if (found) {
        const { created, ...row } = found;
        return { created, row };
      }
      const existing = await reader.get(input.id);
      if (!existing) throw new Error(`execution ${input.id} vanished while being created`);
      return { created: false, row: existing };
    },

    /**
     * Compare-and-set transition plus its audit record, in one statement (so one transaction):
     * it applies only when the row is in a status `to` may be reached from.
     */
    async transition(id: string, to: ExecutionStatus, change: TransitionChange): Promise<TransitionResult> {
      return applyTransition(pool, id, to, change);
    },

    /** The terminal row of an execution no worker admitted (see recordNeverAdmitted). */
    async recordNeverAdmitted(execution: NeverAdmittedExecution): Promise<TransitionResult> {
      return recordNeverAdmitted(pool, execution);
    },

    /** Records that a queued execution holds its capacity slot (the first time only); a row no longer queued is left as it is. */
    async slotAcquired(id: string): Promise<void> {
      await pool.query(`UPDATE executions SET slot_acquired_at = now() WHERE id = $1 AND status = 'queued' AND slot_acquired_at IS NULL`, [
        id,
      ]);
    },

    /**
     * Undoes slotAcquired for a queued row whose lease Redis lost between its acquire and that write
     * (a rebuild may not have counted it): it holds no slot until it acquires one again.
     */
    /**
     * Records that a worker is sending the agent the start (the first time only), while the row is
     * live; returns the row's status (a terminal one: someone else ended it, nothing may start).
     */
    async startSending(id: string): Promise<ExecutionStatus | undefined> {
      const { rows } = await pool.query<{ status: ExecutionStatus }>(
        `UPDATE executions SET start_sent_at = COALESCE(start_sent_at, now())
         WHERE id = $1 AND status IN ('queued', 'running') RETURNING status`,
        [id],
      );
      return rows[0]?.status ?? (await reader.get(id))?.status;
    },

    async slotLost(id: string): Promise<void> {
      await pool.query(`UPDATE executions SET slot_acquired_at = NULL WHERE id = $1 AND status = 'queued'`, [id]);
    },

    /**
     * What a running execution's agent reports, copied into its row while it runs: the output then
     * holds the last bytes of the output so far, ending at `output_bytes`. The conclusion writes the
     * final output and figures. A row no longer running is left as it is, and output only ever grows:
     * a copy that arrives late (after the conclusion saved the whole output) changes no output.
     */
    async recordLive(id: string, report: LiveReport): Promise<void> {
      await pool.query(
        `UPDATE executions SET last_progress_at = COALESCE($3, last_progress_at), usage = COALESCE($4::jsonb, usage),
           output_bytes = CASE WHEN $2::bigint > COALESCE(output_bytes, -1) THEN $2::bigint ELSE output_bytes END,
           output = CASE WHEN $2::bigint > COALESCE(output_bytes, -1) THEN $5 ELSE output END,
           output_truncated = CASE WHEN $2::bigint > COALESCE(output_bytes, -1) THEN $6 ELSE output_truncated END
         WHERE id = $1 AND status = 'running'`,
        [
          id,
          report.outputBytes ?? null,
          report.lastProgressAt ?? null,
          storedUsage(report.usage),
          report.outputTail ?? null,
          // While it runs, truncated means the row holds only the end of the output so far.
          report.outputTail === undefined ? null : (report.outputBytes ?? 0) > Buffer.byteLength(report.outputTail),
        ],
      );
    },

    /**
     * Stores the agent's output (capped) and its final usage report, if it sent one, while the
     * execution is live; a finished row is left as it is.
     */
    async saveOutput(id: string, output: string, totalBytes?: number, usage?: UsageReport): Promise<{ truncated: boolean; bytes: number }> {
      const capped = capOutput(output, options.maxOutputBytes, totalBytes);
      await pool.query(
        `UPDATE executions SET output = $2, output_bytes = $3, output_truncated = $4, usage = COALESCE($5::jsonb, usage)
         WHERE id = $1 AND status IN ('queued', 'running')`,
        [id, capped.text, capped.bytes, capped.truncated, storedUsage(usage)],
      );
      return { truncated: capped.truncated, bytes: capped.bytes };
    },

    /** The idle timeout admission recorded for the execution (its own, else its agent's default); null: none. */
    async idleTimeoutOf(id: string): Promise<number | null> {
      const { rows } = await pool.query<{ seconds: number | null }>(
        'SELECT idle_timeout_seconds AS seconds FROM executions WHERE id = $1',
        [id],
      );
      return rows[0]?.seconds ?? null;
    },

    /** The final output could not be had: the note goes after whatever tail the row holds, which stays. */
    async noteLostOutput(id: string, note: string): Promise<void> {
      await pool.query(
        `UPDATE executions SET output = CASE WHEN output IS NULL OR output = '' THEN $2 ELSE output || E'\n' || $2 END
         WHERE id = $1 AND status IN ('queued', 'running')`,
        [id, note],
      );
    },
  };
}

/** What a transition changes beside the status: who, why, and the outcome of a terminal one. */
export interface TransitionChange {
  actor: Actor;
  reason?: string;
  outcome?: Omit<TerminalOutcome, 'status'>;
}

/** A pool, or a client inside a transaction. */
type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/**
 * Compare-and-set transition plus its audit record, in one statement: it applies only when the row
 * is in a status `to` may be reached from (the database's guard trigger checks the same table).
 */
async function applyTransition(db: Queryable, id: string, to: ExecutionStatus, change: TransitionChange): Promise<TransitionResult> {
  const { rows } = await db.query<{
    current: ExecutionStatus | null;
    from_status: ExecutionStatus | null;
    created_at: Date;
    slot_acquired_at: Date | null;
    started_at: Date | null;
    finished_at: Date | null;
    usage: UsageReport | null;
    tenant: string;
  }>(
    `WITH prev AS (
       SELECT id, status FROM executions WHERE id = $1 FOR UPDATE
     ), upd AS (
       UPDATE executions e SET
         status = $2::execution_status,
         started_at = CASE WHEN $2::execution_status = 'running' THEN now() ELSE e.started_at END,
         finished_at = CASE WHEN execution_status_is_terminal($2::execution_status) THEN now() END,
         error_kind = $5,
         error = $6,
         exit_code = COALESCE($7, e.exit_code)
       FROM prev
       WHERE e.id = prev.id AND prev.status = ANY($3::execution_status[])
       RETURNING e.id, prev.status AS from_status, e.created_at, e.slot_acquired_at, e.started_at, e.finished_at, e.usage, e.tenant
     ), ins AS (
       INSERT INTO execution_transitions (execution_id, from_status, to_status, actor, reason)
       SELECT id, from_status, $2::execution_status, $4, $8 FROM upd
       RETURNING from_status
     )
     SELECT (SELECT status FROM prev) AS current, (SELECT from_status FROM ins) AS from_status,
       upd.created_at, upd.slot_acquired_at, upd.started_at, upd.finished_at, upd.usage, upd.tenant
     FROM (SELECT 1) one LEFT JOIN upd ON true`,
    [
      id,
      to,
      allowedFrom(to),
      change.actor,
      change.outcome?.errorKind ?? null,
      change.outcome?.error ?? null,
      change.outcome?.exitCode ?? null,
      change.reason ?? null,
    ],
  );
  const row = rows[0];
  if (row?.from_status) {
    return {
      applied: true,
      from: row.from_status,
      to,
      createdAt: row.created_at,
      slotAcquiredAt: row.slot_acquired_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      usage: row.usage,
      tenant: row.tenant,
    };
  }
  return { applied: false, current: row?.current ?? undefined, to };
}

/**
 * Writes the terminal row of an execution no worker admitted, in one transaction: the `queued` row
 * as admission would have written it (created when Temporal accepted it) with its audit record,
 * then the terminal transition through the same compare-and-set as every other, so the guard
 * trigger and the one-terminal-transition index hold. A row that exists by now (a worker admitted
 * it meanwhile) is only moved on from where it is, if it may be.
 */
export async function recordNeverAdmitted(pool: pg.Pool, execution: NeverAdmittedExecution): Promise<TransitionResult> {
  const { row, acceptedAt, to, change } = execution;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const values = newRowValues(row);
    const inserted = await client.query(
      `INSERT INTO executions (${newRowColumns}, created_at) VALUES (${newRowParams}, $${values.length + 1})
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [...values, acceptedAt],
    );
    if (inserted.rowCount) {
      await client.query(
        `INSERT INTO execution_transitions (execution_id, from_status, to_status, actor, reason, at)
         VALUES ($1, NULL, 'queued', $2, $3, $4)`,
        [row.id, change.actor, `accepted by Temporal (trigger ${row.trigger}); no worker admitted it`, acceptedAt],
      );
    }
    const result = await applyTransition(client, row.id, to, change);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
