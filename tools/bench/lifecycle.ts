import { startBenchWorkerDeps } from './bench-worker-deps.js';
import { cpuSince, cpuTime, type CpuTime } from './cpu-time.js';
import { LifelineClient } from '../../src/client/lifeline-client.js';
import type { DepsConfig } from '../../src/wiring/build-lifeline-deps.js';
import { createLifelineWorker } from '../../src/temporal/lifeline-worker.js';
import { forEachConcurrently } from '../../src/util/for-each-concurrently.js';
import { runWorker, slotsOf, startBenchWorker, tuningOf } from './bench-worker.js';
import type { BenchStack } from './bench-stack.js';
import { handWrittenActivities, prepareHandWritten } from './hand-written-run.js';
import type { AgentArrival } from './instant-agent.js';
import { progress } from './progress.js';
import { alternatingRounds } from './rounds.js';
import { distribution, nowMs, type Distribution } from './stats.js';
import type { NoopSteps } from './workflows/index.js';

export interface LifecycleOptions {
  /** Executions per kind, in `roundsPerKind` rounds; the kinds take turns, forwards then backwards. */
  perKind: number;
  roundsPerKind: number;
  concurrency: number;
  /** Executions one at a time, for latency without queueing. */
  aloneCount: number;
  config: DepsConfig;
}

/**
 * `bare` is the baseline of the goal: one no-op activity. The others explain the gap: no-op
 * workflows with Lifeline's own steps, all as activities, and in Lifeline's own shape (its local
 * activities and its activities, doing nothing); and `handWritten`, the least I/O any durable agent
 * execution does (a row, a Redis count, the agent's call), by hand in one activity.
 */
export type Kind = 'lifeline' | 'bare' | 'sameSteps' | 'localSteps' | 'handWritten';
type NoopKind = Exclude<Kind, 'lifeline' | 'handWritten'>;

export interface TemporalWork {
  workflowTasks: number;
  activityTasks: number;
  /** Local activity results, each a marker in the history (a patch's marker is not one). */
  localActivities: number;
  historyEvents: number;
}

interface LifecycleLatency {
  startToAgentMs: Distribution;
  agentToTerminalMs: Distribution;
}

export interface LifecycleResult {
  perSecond: Record<Kind, number>;
  /** lifeline / bare. */
  ratio: number;
  shapes: Record<NoopKind, NoopSteps>;
  rounds: { kind: Kind; count: number; seconds: number; cpu: CpuTime }[];
  /** CPU milliseconds per execution under the throughput load, by part: this process (worker and client) and each server. */
  cpuPerExecution: Record<Kind, CpuTime>;
  workerTuning: Record<string, unknown>;
  /** The tuning in a few words, for the table. */
  workerSlots: string;
  sameWorkerTuning: boolean;
  notSucceeded: number;
  /** Temporal's work for one execution of each kind, read from its history. */
  perExecution: Record<Kind, TemporalWork>;
  /** Under the throughput load, and one execution at a time. */
  latency: Record<'loaded' | 'alone', LifecycleLatency>;
}

/** The lifecycle benchmark's size in `npm run bench` and `npm run bench:lifecycle`. */
export const lifecycleRun = { perKind: 480, roundsPerKind: 4, concurrency: 20, aloneCount: 30 };

const agentName = 'bench-instant';
const kinds: Kind[] = ['lifeline', 'bare', 'sameSteps', 'localSteps', 'handWritten'];

/**
 * Executions per second of Lifeline's full lifecycle against an instant agent, next to a bare
 * workflow with one no-op activity on the same server and worker settings; rounds alternate so
 * all kinds share the machine's drift. Also the lifecycle latencies of those executions.
 */
export async function benchLifecycle(bs: BenchStack, opts: LifecycleOptions): Promise<LifecycleResult> {
  const wd = await startBenchWorkerDeps(bs, agentName, opts.config);
  const { agent, deps } = wd;
  const lifelineQueue = 'bench-lifeline';
  const bareQueue = 'bench-bare';
  const lifelineWorker = runWorker(
    (
      await createLifelineWorker({
        connection: bs.nativeConnection,
        namespace: bs.stack.namespace,
        taskQueue: lifelineQueue,
        deps,
        workflowBundlePath: bs.lifelineBundlePath,
      })
    ).worker,
  );
  const bareWorker = await startBenchWorker(bs, bareQueue);
  const handWrittenQueue = 'bench-hand-written';
  await prepareHandWritten(bs.pool);
  const handWrittenWorker = await startBenchWorker(
    bs,
    handWrittenQueue,
    handWrittenActivities({ pool: wd.pool, redis: wd.redis, agentBaseUrl: agent.baseUrl, agentToken: wd.agentToken }),
  );
  const client = new LifelineClient({ temporal: bs.temporal, pool: bs.pool, taskQueue: lifelineQueue });
  const startCalledAt = new Map<string, number>();
  let shapes: LifecycleResult['shapes'] | undefined;

  const runOne = async (kind: Kind, id: string) => {
    if (kind === 'lifeline') {
      startCalledAt.set(id, Date.now());
      await client.startExecution({ executionId: id, agent: agentName, prompt: 'instant' });
      await bs.temporal.workflow.getHandle(id).result();
    } else if (kind === 'handWritten') {
      await bs.temporal.workflow.execute('handWrittenWorkflow', { taskQueue: handWrittenQueue, workflowId: id });
    } else {
      await bs.temporal.workflow.execute('noopStepsWorkflow', {
        taskQueue: bareQueue,
        workflowId: id,
        args: [shapes![kind]],
      });
    }
  };
  const round = async (kind: Kind, label: string, count: number, concurrency: number) => {
    const ids = Array.from({ length: count }, (_, i) => `${kind}-${label}-${i}`);
    const started = nowMs();
    const cpuAtStart = cpuTime();
    await forEachConcurrently(ids, concurrency, (id) => runOne(kind, id));
    return { ids, seconds: (nowMs() - started) / 1000, cpu: cpuSince(cpuAtStart) };
  };

  try {
    progress(`lifecycle: warm-up (${opts.concurrency} of each kind)`);
    const { ids: warmIds } = await round('lifeline', 'warmup', opts.concurrency, opts.concurrency);
    const work = await temporalWork(bs, warmIds[0]!);
    shapes = {
      bare: { activities: 1, localActivities: 0 },
      sameSteps: { activities: work.activityTasks + work.localActivities, localActivities: 0 },
      localSteps: { activities: work.activityTasks, localActivities: work.localActivities },
    };
    for (const kind of kinds.slice(1)) await round(kind, 'warmup', opts.concurrency, opts.concurrency);

    const perRound = Math.ceil(opts.perKind / opts.roundsPerKind);
    const order = alternatingRounds(kinds, opts.roundsPerKind);
    const rounds: LifecycleResult['rounds'] = [];
    const loadedIds = Object.fromEntries(kinds.map((k) => [k, [] as string[]])) as Record<Kind, string[]>;
    for (const [i, kind] of order.entries()) {
      const { ids, seconds, cpu } = await round(kind, `r${i}`, perRound, opts.concurrency);
      rounds.push({ kind, count: perRound, seconds, cpu });
      loadedIds[kind].push(...ids);
      progress(`lifecycle: round ${i + 1}/${order.length} ${kind}: ${(perRound / seconds).toFixed(1)}/s`);
    }
    const rate = (kind: Kind) => {
      const mine = rounds.filter((r) => r.kind === kind);
      return mine.reduce((n, r) => n + r.count, 0) / mine.reduce((s, r) => s + r.seconds, 0);
    };
    const cpuPer = (kind: Kind): CpuTime => {
      const mine = rounds.filter((r) => r.kind === kind);
      const n = mine.reduce((sum, r) => sum + r.count, 0);
      const per: CpuTime = {};
      for (const round of mine) for (const [part, ms] of Object.entries(round.cpu)) per[part] = (per[part] ?? 0) + ms / n;
      return per;
    };

    progress(`lifecycle: ${opts.aloneCount} executions one at a time`);
    const { ids: aloneIds } = await round('lifeline', 'alone', opts.aloneCount, 1);

    const { rows: statusRows } = await bs.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM executions WHERE agent = $1 AND status <> 'succeeded'`,
      [agentName],
    );
    const lifelineTuning = tuningOf(lifelineWorker.worker);
    const perExecution = {} as Record<Kind, TemporalWork>;
    for (const kind of kinds) perExecution[kind] = await temporalWork(bs, loadedIds[kind][0]!);
    return {
      perSecond: Object.fromEntries(kinds.map((k) => [k, rate(k)])) as Record<Kind, number>,
      ratio: rate('lifeline') / rate('bare'),
      cpuPerExecution: Object.fromEntries(kinds.map((k) => [k, cpuPer(k)])) as Record<Kind, CpuTime>,
      shapes,
      rounds,
      workerTuning: lifelineTuning,
      workerSlots: slotsOf(lifelineWorker.worker),
      sameWorkerTuning: JSON.stringify(lifelineTuning) === JSON.stringify(tuningOf(bareWorker.worker)),
      notSucceeded: Number(statusRows[0]?.n ?? 0),
      perExecution,
      latency: {
        loaded: await latencyOf(bs, loadedIds.lifeline, startCalledAt, agent.arrivals),
        alone: await latencyOf(bs, aloneIds, startCalledAt, agent.arrivals),
      },
    };
  } finally {
    await lifelineWorker.stop();
    await bareWorker.stop();
    await handWrittenWorker.stop();
    await wd.close();
  }
}

/**
 * Start → agent called: the agent's arrival time minus the start call's. Agent finished → terminal
 * row: the row's finished_at minus that same arrival (the instant agent finishes as it answers).
 */
async function latencyOf(
  bs: BenchStack,
  ids: string[],
  startCalledAt: Map<string, number>,
  arrivals: Map<string, AgentArrival>,
): Promise<LifecycleLatency> {
  const { rows } = await bs.pool.query<{ id: string; finished_ms: number }>(
    `SELECT id, extract(epoch FROM finished_at) * 1000 AS finished_ms FROM executions WHERE id = ANY($1)`,
    [ids],
  );
  const finishedAt = new Map(rows.map((r) => [r.id, Number(r.finished_ms)]));
  const startToAgent: number[] = [];
  const agentToTerminal: number[] = [];
  for (const id of ids) {
    const arrived = arrivals.get(id)?.receivedAtMs;
    const finished = finishedAt.get(id);
    const called = startCalledAt.get(id);
    if (arrived === undefined || finished === undefined || called === undefined) continue;
    startToAgent.push(arrived - called);
    agentToTerminal.push(finished - arrived);
  }
  return { startToAgentMs: distribution(startToAgent), agentToTerminalMs: distribution(agentToTerminal) };
}

async function temporalWork(bs: BenchStack, workflowId: string): Promise<TemporalWork> {
  const events = (await bs.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return {
    workflowTasks: events.filter((e) => e.workflowTaskScheduledEventAttributes).length,
    activityTasks: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    // Patches record markers too (core_patch): only local activities' (core_local_activity) count.
    localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    historyEvents: events.length,
  };
}
