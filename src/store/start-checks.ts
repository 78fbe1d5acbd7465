import type pg from 'pg';

/** What a start must know before it reaches Temporal. */
export interface StartChecks {
  /** Its agent is registered and not removed. */
  agentKnown: boolean;
  /** The execution the caller's own id already names, if any: what it runs. */
  existing?: { agent: string; prompt: string };
}

/**
 * Both checks of a start in one round trip: a scheduler's every start pays for it, and Postgres
 * answers both from one statement as cheaply as from one of them.
 */
export async function readStartChecks(pool: pg.Pool, agent: string, executionId?: string): Promise<StartChecks> {
  const { rows } = await pool.query<{ agentKnown: boolean; agent: string | null; prompt: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM agents WHERE name = $1 AND removed_at IS NULL) AS "agentKnown", e.agent, e.prompt
     FROM (VALUES (1)) AS one LEFT JOIN executions e ON e.id = $2`,
    [agent, executionId ?? null],
  );
  const row = rows[0]!;
  return {
    agentKnown: row.agentKnown,
    ...(row.agent !== null && row.prompt !== null && { existing: { agent: row.agent, prompt: row.prompt } }),
  };
}
