import { defaultTenant } from '../../src/domain/tenants.js';
import { literalToken } from '../../src/domain/token-reference.js';
import { buildLifelineDeps } from '../../src/wiring/build-lifeline-deps.js';
import type { LifelineConfig } from '../../src/config/config.js';
import type { ReconcileReport, Sweep } from '../../src/contract/reconcile-report.js';
import { reconcileOnce } from '../../src/reconciler/reconcile.js';
import { createAgentStore } from '../../src/store/agent-store.js';
import { forEachConcurrently } from '../../src/util/for-each-concurrently.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { startBenchWorker } from './bench-worker.js';
import type { BenchStack } from './bench-stack.js';
import { progress } from './progress.js';
import { medianTime } from './stats.js';

export interface ReconcilerPoint {
  terminalRows: number;
  liveRows: number;
  /** (a) one regular reconcile cycle (anomalies only), median. */
  cycleMs: number;
  cycleSamplesMs: number[];
  /** Workflows a regular cycle described: none, every execution here being healthy. */
  cycleDescribed: number;
  /** One full sweep (a describe of every live row's workflow), median. */
  fullSweepMs: number;
  fullSweepDescribed: number;
  /** (b) the live-row query alone (executions.listLive), median. */
  listLiveMs: number;
  /** (c) a tenant's spend this day and month (what each admission of a tenant with a budget reads), median; every row here is its. */
  spendReadMs: number;
}

export interface ReconcilerResult {
  points: ReconcilerPoint[];
  graceSeconds: number;
  fullSweepSeconds: number;
  /** How many runs each median is taken over. */
  runs: { cycle: number; fullSweep: number; listLive: number };
  setup: { startLiveWorkflowsSeconds: number; insertTerminalRowsSeconds: number };
}

const agentName = 'bench-reconciler';
const cycles = 20;
const fullSweeps = 5;
const listLiveRuns = 20;

/**
 * The cost of one reconcile cycle with real dependencies, with 1,000 live rows (each with a
 * running workflow and a lease, as in steady state) and 10,000 then 1,000,000 terminal rows: the
 * regular cycle the schedule runs, and the full sweep it runs once per full-sweep interval.
 */
export async function benchReconciler(
  bs: BenchStack,
  config: LifelineConfig,
  liveRows: number,
  terminalSteps: number[],
): Promise<ReconcilerResult> {
  // The reconciler only calls an agent to stop the process of a closed workflow; none is closed here.
  await createAgentStore(bs.pool).upsert({
    name: agentName,
    baseUrl: 'http://127.0.0.1:9',
    token: literalToken('unused'),
    capacity: 10_000,
    defaultTimeoutSeconds: null,
  });
  const deps = buildLifelineDeps({
    pool: bs.pool,
    redis: bs.redis,
    workflows: bs.temporal.workflow,
    config,
    log: bs.log,
  });
  const { graceSeconds } = config.reconciler;
  const reconcile = (sweep: Sweep) => reconcileOnce(deps, { sweep });
  /** Every execution is healthy: a cycle that recovers, fails or (regular) describes anything is measuring something else. */
  const checkSetup = (report: ReconcileReport) => {
    const describedTooMuch = report.sweep === 'anomalies' && report.workflowsDescribed > 0;
    if (report.liveRowsChecked !== liveRows || report.recoveries.length > 0 || report.failures.length > 0 || describedTooMuch) {
      throw new Error(
        `reconciler setup is off: ${JSON.stringify({ ...report, recoveries: report.recoveries.slice(0, 3), failures: report.failures.slice(0, 3) })}`,
      );
    }
    return report;
  };

  const worker = await startBenchWorker(bs, 'bench-parked');
  try {
    progress(`reconciler: starting ${liveRows} long-running workflows`);
    const ids = Array.from({ length: liveRows }, (_, i) => `parked-${i}`);
    let started = Date.now();
    await forEachConcurrently(ids, 50, async (workflowId) => {
      await bs.temporal.workflow.start('parkedWorkflow', { taskQueue: 'bench-parked', workflowId });
    });
    // Measuring starts once the worker has run every first workflow task and gone idle.
    await waitUntil(async () => worker.worker.getStatus().numCachedWorkflows >= liveRows, {
      what: `the worker to run all ${liveRows} parked workflows`,
      timeoutMs: 5 * 60_000,
    });
    const startLiveWorkflowsSeconds = (Date.now() - started) / 1000;
    await bs.pool.query(
      `INSERT INTO executions (id, agent, status, prompt, trigger, busy_policy, timeout_seconds, created_at, started_at)
       SELECT id, $2, 'running', 'bench', 'api', 'queue', 900, now() - interval '10 minutes', now() - interval '10 minutes'
       FROM unnest($1::text[]) AS id`,
      [ids, agentName],
    );
    await forEachConcurrently(ids, 50, async (id) => {
      await deps.slots.tryAcquire(agentName, id, 10_000, 'skip');
    });

    const points: ReconcilerPoint[] = [];
    let inserted = 0;
    let insertSeconds = 0;
    for (const target of terminalSteps) {
      progress(`reconciler: inserting terminal rows up to ${target.toLocaleString('en')}`);
      started = Date.now();
      await insertTerminalRows(bs, inserted + 1, target);
      inserted = target;
      insertSeconds += (Date.now() - started) / 1000;

      const regular = checkSetup(await reconcile('anomalies'));
      const full = checkSetup(await reconcile('full'));
      progress(
        `reconciler: ${cycles} regular cycles, ${fullSweeps} full sweeps, ${listLiveRuns} live-row and spend queries with ${target.toLocaleString('en')} terminal rows`,
      );
      const cycle = await medianTime(cycles, () => reconcile('anomalies'));
      const fullSweep = await medianTime(fullSweeps, () => reconcile('full'));
      const listLive = await medianTime(listLiveRuns, () => deps.executions.listLive(graceSeconds));
      const spendRead = await medianTime(listLiveRuns, () => deps.tenants.use([defaultTenant]));
      points.push({
        terminalRows: target,
        liveRows,
        cycleMs: cycle.medianMs,
        cycleSamplesMs: cycle.samplesMs,
        cycleDescribed: regular.workflowsDescribed,
        fullSweepMs: fullSweep.medianMs,
        fullSweepDescribed: full.workflowsDescribed,
        listLiveMs: listLive.medianMs,
        spendReadMs: spendRead.medianMs,
      });
    }
    return {
      points,
      graceSeconds,
      fullSweepSeconds: config.reconciler.fullSweepSeconds,
      runs: { cycle: cycles, fullSweep: fullSweeps, listLive: listLiveRuns },
      setup: { startLiveWorkflowsSeconds, insertTerminalRowsSeconds: insertSeconds },
    };
  } finally {
    await worker.stop();
  }
}

/**
 * Rows `from`..`to` of a finished history, in one set-based statement. Then the table is vacuumed
 * and analyzed, as autovacuum would soon do, and checkpointed, so no catch-up runs while measuring.
 */
async function insertTerminalRows(bs: BenchStack, from: number, to: number): Promise<void> {
  await bs.pool.query(
    `INSERT INTO executions (id, agent, status, prompt, trigger, busy_policy, timeout_seconds, created_at, started_at, finished_at)
     SELECT 'done-' || g, $3, 'succeeded', 'bench', 'api', 'queue', 900,
       now() - make_interval(secs => g), now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '1 second'
     FROM generate_series($1::int, $2::int) AS g`,
    [from, to, agentName],
  );
  await bs.pool.query('VACUUM ANALYZE executions');
  await bs.pool.query('CHECKPOINT');
}
