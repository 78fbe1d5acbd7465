import type pg from 'pg';
import type { HeldToken, TokenReference } from '../domain/token-reference.js';

export interface AgentRecord {
  name: string;
  baseUrl: string;
  capacity: number;
  defaultTimeoutSeconds: number | null;
  /** The idle timeout of its executions that set none; null: none. */
  defaultIdleTimeoutSeconds: number | null;
  /** How its token is held; a literal's value is never read into a record. */
  token: HeldToken;
}

/** An agent as registered, a literal token included: only activities read one, to call the agent. */
export interface AgentRegistration extends Omit<AgentRecord, 'token' | 'defaultIdleTimeoutSeconds'> {
  token: TokenReference;
  defaultIdleTimeoutSeconds?: number | null;
}

const columns = `name, base_url AS "baseUrl", capacity, default_timeout_seconds AS "defaultTimeoutSeconds",
  default_idle_timeout_seconds AS "defaultIdleTimeoutSeconds"`;
// The literal's value stays in Postgres: listings and plans never carry it.
const heldToken = `json_strip_nulls(json_build_object('source', token_source,
  'ref', CASE WHEN token_source = 'literal' THEN NULL ELSE token_ref END)) AS token`;

export type AgentStore = ReturnType<typeof createAgentStore>;

export function createAgentStore(pool: pg.Pool) {
  return {
    /** A registered agent; a removed one is unknown here (new executions refuse it). */
    async get(name: string): Promise<AgentRecord | undefined> {
      const { rows } = await pool.query<AgentRecord>(`SELECT ${columns}, ${heldToken} FROM agents WHERE name = $1 AND removed_at IS NULL`, [
        name,
      ]);
      return rows[0];
    },

    /**
     * Includes a literal token: only activities call this, so the secret never enters workflow history.
     * A removed agent too: the runs it had when removed with --force are read and stopped to their end.
     */
    async getRegistration(name: string): Promise<AgentRegistration | undefined> {
      const { rows } = await pool.query<AgentRegistration>(
        `SELECT ${columns}, json_build_object('source', token_source, 'ref', token_ref) AS token FROM agents WHERE name = $1`,
        [name],
      );
      return rows[0];
    },

    /** `withRemoved`: removed agents too, for the reconciler (their leases and processes still need it). */
    async list(opts: { withRemoved?: boolean } = {}): Promise<AgentRecord[]> {
      const { rows } = await pool.query<AgentRecord>(
        `SELECT ${columns}, ${heldToken} FROM agents ${opts.withRemoved ? '' : 'WHERE removed_at IS NULL'} ORDER BY name`,
      );
      return rows;
    },

    /** Marks the agent removed; false when there is no such agent (or it was removed already). */
    async remove(name: string): Promise<boolean> {
      const { rowCount } = await pool.query('UPDATE agents SET removed_at = now() WHERE name = $1 AND removed_at IS NULL', [name]);
      return rowCount === 1;
    },

    async upsert(agent: AgentRegistration): Promise<void> {
      await pool.query(
        `INSERT INTO agents (name, base_url, token_source, token_ref, capacity, default_timeout_seconds, default_idle_timeout_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (name) DO UPDATE SET base_url = EXCLUDED.base_url, token_source = EXCLUDED.token_source,
           token_ref = EXCLUDED.token_ref, capacity = EXCLUDED.capacity,
           default_timeout_seconds = EXCLUDED.default_timeout_seconds,
           default_idle_timeout_seconds = EXCLUDED.default_idle_timeout_seconds, removed_at = NULL, updated_at = now()`,
        [
          agent.name,
          agent.baseUrl,
          agent.token.source,
          agent.token.ref,
          agent.capacity,
          agent.defaultTimeoutSeconds,
          agent.defaultIdleTimeoutSeconds ?? null,
        ],
      );
    },
  };
}
