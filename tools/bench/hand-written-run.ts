import { Context } from '@temporalio/activity';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { request } from 'undici';

export interface HandWrittenDeps {
  pool: pg.Pool;
  redis: Redis | Cluster;
  agentBaseUrl: string;
  agentToken: string;
}

/**
 * The least work a durable agent execution must do, written by hand in one activity with no checks:
 * write its row, count it in Redis, call the agent, write its end, count it out. Lifeline's lifecycle
 * against this shows its own machinery's cost (local activities, checks, guarantees), apart from the
 * I/O any such system pays.
 */
export async function prepareHandWritten(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_hand_written_runs (
    id text PRIMARY KEY, status text NOT NULL, output text, started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)`);
}

export function handWrittenActivities(deps: HandWrittenDeps) {
  return {
    async runByHand(): Promise<void> {
      const id = Context.current().info.workflowExecution?.workflowId;
      if (id === undefined) throw new Error('runByHand runs in a workflow');
      await deps.pool.query(`INSERT INTO bench_hand_written_runs (id, status) VALUES ($1, 'running')`, [id]);
      await deps.redis.incr('bench:hand-written:running');
      const answer = await request(`${deps.agentBaseUrl}/executions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${deps.agentToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, prompt: 'instant', timeoutSeconds: 60, metadata: {} }),
      });
      const run = (await answer.body.json()) as { status: string; output?: string };
      await deps.pool.query(`UPDATE bench_hand_written_runs SET status = $2, output = $3, finished_at = now() WHERE id = $1`, [
        id,
        run.status,
        run.output ?? null,
      ]);
      await deps.redis.decr('bench:hand-written:running');
    },
  };
}
