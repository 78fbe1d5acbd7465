import type pg from 'pg';

export interface AgentRecord {
  name: string;
  baseUrl: string;
  capacity: number;
  defaultTimeoutSeconds: number | null;
}

export interface AgentWithToken extends AgentRecord {
  token: string;
}

const columns = `name, base_url AS "baseUrl", capacity, default_timeout_seconds AS "defaultTimeoutSeconds"`;

export type AgentStore = ReturnType<typeof createAgentStore>;

export function createAgentStore(pool: pg.Pool) {
  return {
    async get(name: string): Promise<AgentRecord | undefined> {
      const { rows } = await pool.query<AgentRecord>(`SELECT ${columns} FROM agents WHERE name = $1`, [name]);
      return rows[0];
    },

    /** Includes the bearer token: only activities call this, so the secret never enters workflow history. */
    async getWithToken(name: string): Promise<AgentWithToken | undefined> {
      const { rows } = await pool.query<AgentWithToken>(`SELECT ${columns}, auth_token AS token FROM agents WHERE name = $1`, [name]);
      return rows[0];
    },

    async list(): Promise<AgentRecord[]> {
      const { rows } = await pool.query<AgentRecord>(`SELECT ${columns} FROM agents ORDER BY name`);
      return rows;
    },

    async upsert(agent: AgentWithToken): Promise<void> {
      await pool.query(
        `INSERT INTO agents (name, base_url, auth_token, capacity, default_timeout_seconds)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET base_url = EXCLUDED.base_url, auth_token = EXCLUDED.auth_token,
           capacity = EXCLUDED.capacity, default_timeout_seconds = EXCLUDED.default_timeout_seconds, updated_at = now()`,
        [agent.name, agent.baseUrl, agent.token, agent.capacity, agent.defaultTimeoutSeconds],
      );
    },
  };
}
