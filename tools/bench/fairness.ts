import { randomBytes } from 'node:crypto';
import { startAgentServer } from '../../src/agent-server/agent-server.js';
import { literalToken } from '../../src/domain/token-reference.js';
import { LifelineClient } from '../../src/client/lifeline-client.js';
import { createAgentStore } from '../../src/store/agent-store.js';
import { createTenantStore } from '../../src/store/tenant-store.js';
import { forEachConcurrently } from '../../src/util/for-each-concurrently.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { startWorkerProcess } from '../processes/worker-process.js';
import { benchWorkerEnv, type BenchStack } from './bench-stack.js';
import { progress } from './progress.js';
import { distribution, type Distribution } from './stats.js';

export interface FairnessOptions {
  /** Capacity of each scenario's agent. */
  capacity: number;
  /** Each run sleeps this long on the agent. */
  runSeconds: number;
  /** Tenant A's backlog, queued before tenant B's runs arrive. */
  backlog: number;
  /** Tenant B's runs, started at once, alone and then behind A's backlog. */
  burst: number;
  /** Runs of each tenant in the share scenarios, both queued at once. */
  perTenantForShares: number;
}

/** Each backlogged tenant's share of the agent's slot time, against the share its weight gives it. */
export interface Shares {
  weights: Record<string, number>;
  windowSeconds: number;
  share: Record<string, number>;
  target: Record<string, number>;
  /** share / target − 1, per tenant. */
  error: Record<string, number>;
}

export interface FairnessResult {
  capacity: number;
  runSeconds: number;
  backlog: number;
  burst: number;
  /** Tenant B's wait for a slot (admission to slot), seconds. */
  waitAloneSeconds: Distribution;
  waitBehindBacklogSeconds: Distribution;
  /** p95 behind A's backlog / p95 alone. */
  p95Ratio: number;
  equalWeights: Shares;
  weights3to1: Shares;
}

interface RunTimes {
  tenant: string;
  createdAt: number;
  slotAt: number | null;
  finishedAt: number | null;
  status: string;
}

/**
 * `npm run bench:fairness`: real executions through a real worker, on agents whose runs sleep a few
 * seconds. Tenant B's waits alone, then behind tenant A's backlog; then two tenants queued at once
 * (equal weights, then 3:1) and each one's share of slot time while both are backlogged.
 */
export async function benchFairness(bs: BenchStack, opts: FairnessOptions): Promise<FairnessResult> {
  const token = randomBytes(16).toString('hex');
  const scenarios = ['alone', 'behind', 'equal', 'weighted'] as const;
  const agentOf = (scenario: (typeof scenarios)[number]) => `fair-${scenario}`;
  const agentServer = await startAgentServer(
    {
      agents: Object.fromEntries(
        scenarios.map((s) => [agentOf(s), { token, command: ['sleep'], stopGraceMs: 1000, maxConcurrentRuns: opts.capacity * 2 }]),
      ),
    },
    bs.log,
  );
  for (const scenario of scenarios) {
    await createAgentStore(bs.pool).upsert({
      name: agentOf(scenario),
      baseUrl: `${agentServer.url}/agents/${agentOf(scenario)}`,
      token: literalToken(token),
      capacity: opts.capacity,
      defaultTimeoutSeconds: null,
    });
  }
  const tenants = createTenantStore(bs.pool);
  const taskQueue = 'bench-fairness';
  const worker = await startWorkerProcess({
    identity: 'bench-fairness',
    env: {
      ...process.env,
      ...benchWorkerEnv(bs, taskQueue, {
        LIFELINE_MAX_CONCURRENT_RUNS: String(opts.backlog + opts.burst + 100),
        LIFELINE_RECONCILE_INTERVAL_SECONDS: '0',
      }),
    },
  });
  const client = new LifelineClient({ temporal: bs.temporal, pool: bs.pool, taskQueue });
  const prompt = String(opts.runSeconds);

  async function start(agent: string, tenant: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    await forEachConcurrently(
      Array.from({ length: count }, (_, i) => i),
      25,
      async () => {
        ids.push((await client.startExecution({ agent, tenant, prompt, queueTimeoutSeconds: 3600 })).executionId);
      },
    );
    return ids;
  }

  async function times(ids: string[]): Promise<RunTimes[]> {
    const { rows } = await bs.pool.query<RunTimes>(
      `SELECT tenant, status, extract(epoch FROM created_at) * 1000 AS "createdAt",
         extract(epoch FROM slot_acquired_at) * 1000 AS "slotAt", extract(epoch FROM finished_at) * 1000 AS "finishedAt"
       FROM executions WHERE id = ANY($1::text[])`,
      [ids],
    );
    return rows.map((r) => ({
      ...r,
      createdAt: Number(r.createdAt),
      slotAt: r.slotAt && Number(r.slotAt),
      finishedAt: r.finishedAt && Number(r.finishedAt),
    }));
  }

  async function allEnded(ids: string[], what: string): Promise<void> {
    await waitUntil(
      async () => {
        const rows = await times(ids);
        return rows.length === ids.length && rows.every((r) => r.finishedAt !== null);
      },
      { what, timeoutMs: 1_800_000, intervalMs: 1000 },
    );
  }

  const waitsOf = (runs: RunTimes[]) => distribution(runs.filter((r) => r.slotAt !== null).map((r) => (r.slotAt! - r.createdAt) / 1000));

  async function shares(agent: string, weights: Record<string, number>): Promise<Shares> {
    for (const [tenant, weight] of Object.entries(weights)) await tenants.set(tenant, { weight });
    progress(
      `fairness: ${opts.perTenantForShares} runs for each of ${Object.entries(weights)
        .map(([t, w]) => `${t} (weight ${w})`)
        .join(' and ')}, queued together`,
    );
    // Interleaved, so that neither tenant's runs are all queued first.
    const started = await Promise.all(Object.keys(weights).map((tenant) => start(agent, tenant, opts.perTenantForShares)));
    const ids = started.flat();
    await allEnded(ids, `the ${ids.length} runs of the share scenario to end`);
    const runs = await times(ids);
    // Both backlogged: from the last start to the last slot a tenant took (its queue was empty after).
    const from = Math.max(...runs.map((r) => r.createdAt));
    const until = Math.min(...Object.keys(weights).map((t) => Math.max(...runs.filter((r) => r.tenant === t).map((r) => r.slotAt ?? 0))));
    const slotTime: Record<string, number> = Object.fromEntries(Object.keys(weights).map((t) => [t, 0]));
    for (const r of runs) {
      if (r.slotAt === null || r.finishedAt === null) continue;
      slotTime[r.tenant]! += Math.max(0, Math.min(r.finishedAt, until) - Math.max(r.slotAt, from));
    }
    const total = Object.values(slotTime).reduce((a, b) => a + b, 0);
    const weightSum = Object.values(weights).reduce((a, b) => a + b, 0);
    const round = (n: number) => Math.round(n * 1000) / 1000;
    const share = Object.fromEntries(Object.keys(weights).map((t) => [t, round(slotTime[t]! / total)]));
    const target = Object.fromEntries(Object.entries(weights).map(([t, w]) => [t, round(w / weightSum)]));
    const error = Object.fromEntries(Object.keys(weights).map((t) => [t, round(slotTime[t]! / total / (weights[t]! / weightSum) - 1)]));
    return { weights, windowSeconds: round((until - from) / 1000), share, target, error };
  }

  try {
    progress(`fairness: tenant B's ${opts.burst} runs alone on an agent of capacity ${opts.capacity}`);
    const alone = await start(agentOf('alone'), 'b-alone', opts.burst);
    await allEnded(alone, "B's runs alone to end");
    const waitAloneSeconds = waitsOf(await times(alone));

    progress(`fairness: tenant A queues ${opts.backlog} runs`);
    const backlog = await start(agentOf('behind'), 'a-behind', opts.backlog);
    await waitUntil(async () => (await times(backlog)).filter((r) => r.slotAt !== null).length >= opts.capacity, {
      what: "A's backlog to fill the agent",
      timeoutMs: 600_000,
      intervalMs: 500,
    });
    progress(`fairness: tenant B's ${opts.burst} runs behind A's backlog`);
    const behind = await start(agentOf('behind'), 'b-behind', opts.burst);
    await allEnded(behind, "B's runs behind A's backlog to end");
    const waitBehindBacklogSeconds = waitsOf(await times(behind));
    const leftOfBacklog = backlog.length - (await times(backlog)).filter((r) => r.finishedAt !== null).length;
    progress(`fairness: stopping what is left of A's backlog (${leftOfBacklog} runs)`);
    await forEachConcurrently(backlog, 25, (id) => client.stopExecution(id, 'fairness benchmark: scenario over').then(() => undefined));
    await allEnded(backlog, "A's backlog to end");

    const equalWeights = await shares(agentOf('equal'), { 'a-equal': 1, 'b-equal': 1 });
    const weights3to1 = await shares(agentOf('weighted'), { 'a-weighted': 3, 'b-weighted': 1 });
    return {
      capacity: opts.capacity,
      runSeconds: opts.runSeconds,
      backlog: opts.backlog,
      burst: opts.burst,
      waitAloneSeconds,
      waitBehindBacklogSeconds,
      p95Ratio: Math.round((waitBehindBacklogSeconds.p95 / waitAloneSeconds.p95) * 100) / 100,
      equalWeights,
      weights3to1,
    };
  } finally {
    await worker.stop(10_000);
    await agentServer.close();
  }
}
