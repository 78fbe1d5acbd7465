import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { createRedis } from '../../src/db/redis.js';
import type { LifelineDeps } from '../../src/deps/lifeline-deps.js';
import { literalToken } from '../../src/domain/token-reference.js';
import { createAgentStore } from '../../src/store/agent-store.js';
import { buildLifelineDeps, type DepsConfig } from '../../src/wiring/build-lifeline-deps.js';
import type { BenchStack } from './bench-stack.js';
import { startInstantAgent, type InstantAgent } from './instant-agent.js';

/** An instant agent registered under `name`, and the dependencies a worker's activities get. */
export interface BenchWorkerDeps {
  agent: InstantAgent;
  agentToken: string;
  pool: pg.Pool;
  redis: Redis | Cluster;
  deps: LifelineDeps;
  close(): Promise<void>;
}

/**
 * Starts an instant agent, registers it (capacity enough for any benchmark) and builds the worker's
 * dependencies on a pool and Redis connection of their own, as src/worker.ts gives them.
 */
export async function startBenchWorkerDeps(bs: BenchStack, name: string, config: DepsConfig): Promise<BenchWorkerDeps> {
  const agentToken = randomBytes(16).toString('hex');
  const agent = await startInstantAgent(agentToken);
  await createAgentStore(bs.pool).upsert({
    name,
    baseUrl: agent.baseUrl,
    token: literalToken(agentToken),
    capacity: 10_000,
    defaultTimeoutSeconds: null,
  });
  const pool = createPool(bs.stack.databaseUrl, bs.log);
  const redis = createRedis(bs.stack.redisUrl, bs.log);
  const deps = buildLifelineDeps({ pool, redis, workflows: bs.temporal.workflow, config, log: bs.log });
  return {
    agent,
    agentToken,
    pool,
    redis,
    deps,
    async close() {
      await agent.close();
      redis.disconnect();
      await pool.end();
    },
  };
}
