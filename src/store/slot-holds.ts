import type pg from 'pg';

/** An execution that holds capacity, as Postgres says: what a lost agent's leases are rebuilt from. */
export interface SlotHolder {
  executionId: string;
  tenant: string;
}

/** An ended execution whose agent process may still run: its workflow keeps stopping it and keeps its slot. */
export interface SlotHold {
  executionId: string;
  agent: string;
  since: Date;
}

/**
 * Who holds capacity, in Postgres: the truth Redis' leases are rebuilt from when Redis lost them
 * (DESIGN: Capacity slots). A hold is written before the row's terminal write and deleted after
 * the slot's release, so an execution holding capacity is always a live row or a hold.
 */
export function createSlotHoldStore(pool: pg.Pool) {
  return {
    /** Idempotent: the first `since` stays. */
    async holdSlotWhileStopping(executionId: string, agent: string): Promise<void> {
      await pool.query(`INSERT INTO slot_holds (execution_id, agent) VALUES ($1, $2) ON CONFLICT (execution_id) DO NOTHING`, [
        executionId,
        agent,
      ]);
    },

    async clearSlotHold(executionId: string): Promise<void> {
      await pool.query(`DELETE FROM slot_holds WHERE execution_id = $1`, [executionId]);
    },

    /** Every hold, or those of one agent, oldest first. */
    async slotHolds(agent?: string): Promise<SlotHold[]> {
      const { rows } = await pool.query<SlotHold>(
        `SELECT execution_id AS "executionId", agent, since FROM slot_holds WHERE $1::text IS NULL OR agent = $1 ORDER BY since`,
        [agent ?? null],
      );
      return rows;
    },

    async slotHold(executionId: string): Promise<SlotHold | undefined> {
      const { rows } = await pool.query<SlotHold>(
        `SELECT execution_id AS "executionId", agent, since FROM slot_holds WHERE execution_id = $1`,
        [executionId],
      );
      return rows[0];
    },

    /**
     * The executions that hold a slot on the agent: running rows, queued rows admitted with a slot
     * (see holdsSlot in src/reconciler/live-rows.ts) and holds. One statement, so one snapshot.
     */
    async slotHolders(agent: string): Promise<SlotHolder[]> {
      const { rows } = await pool.query<SlotHolder>(
        `SELECT id AS "executionId", tenant FROM executions
         WHERE agent = $1 AND (status = 'running' OR (status = 'queued' AND slot_acquired_at IS NOT NULL))
         UNION SELECT h.execution_id, e.tenant FROM slot_holds h JOIN executions e ON e.id = h.execution_id WHERE h.agent = $1`,
        [agent],
      );
      return rows;
    },

    /** The same for one tenant across agents: what its holders in Redis are rebuilt from. */
    async tenantSlotHolders(tenant: string): Promise<string[]> {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT id FROM executions
         WHERE tenant = $1 AND status IN ('queued', 'running') AND (status = 'running' OR slot_acquired_at IS NOT NULL)
         UNION SELECT h.execution_id FROM slot_holds h JOIN executions e ON e.id = h.execution_id WHERE e.tenant = $1`,
        [tenant],
      );
      return rows.map((row) => row.id);
    },
  };
}
