import { randomBytes } from 'node:crypto';
import { startBenchWorkerDeps } from './bench-worker-deps.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createExecutionActivities } from '../../src/activities/execution-activities.js';
import type { ExecutionActivities } from '../../src/contract/execution-activities.js';
import type { DepsConfig } from '../../src/wiring/build-lifeline-deps.js';
import { readStartChecks } from '../../src/store/start-checks.js';
import type { BenchStack } from './bench-stack.js';
import { cpuSince, cpuTime, type CpuTime } from './cpu-time.js';
import { progress } from './progress.js';

/** CPU milliseconds one call of a step costs, by part, and its wall time. */
export interface StepCost {
  step: string;
  cpu: CpuTime;
  wallMs: number;
}

const agentName = 'bench-steps';
/** Executions whose steps run together: the lifecycle benchmark's concurrency. */
const batch = 20;

/**
 * The I/O steps of one execution against an instant agent, each called `count` times in a row
 * outside Temporal (in a mock activity context): what each costs this process, Postgres and Redis.
 * The lifecycle benchmark says what an execution costs in all; this says where its activities' share goes.
 */
export async function benchSteps(bs: BenchStack, config: DepsConfig, count: number): Promise<StepCost[]> {
  const wd = await startBenchWorkerDeps(bs, agentName, config);
  const activities = createExecutionActivities(wd.deps);
  const inActivity = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    // A fresh context per call: a mock environment keeps its context, cancellation included.
    new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 }, { logger: new DefaultLogger('ERROR') }).run(fn, ...args);
  const ids = Array.from({ length: count }, (_, i) => `steps-${randomBytes(4).toString('hex')}-${i}`);
  const steps: [string, (id: string) => Promise<unknown>][] = [
    ['start checks (client)', (id) => readStartChecks(bs.pool, agentName, id)],
    [
      'admit',
      (id) =>
        inActivity(activities.admit, { agent: agentName, prompt: 'instant', trigger: 'manual', busyPolicy: 'queue', executionId: id }),
    ],
    [
      'runAgent',
      (id) =>
        inActivity(activities.runAgent, {
          executionId: id,
          agent: agentName,
          prompt: 'instant',
          timeoutSeconds: 60,
          idleTimeoutSeconds: null,
        }),
    ],
    [
      'conclude',
      (id) =>
        inActivity(activities.conclude, {
          executionId: id,
          agent: agentName,
          outcome: { status: 'succeeded', exitCode: 0 },
          actor: 'workflow',
          storeOutput: false,
          releaseSlot: true,
        } satisfies Parameters<ExecutionActivities['conclude']>[0]),
    ],
  ];
  const totals = steps.map(([step]) => ({ step, cpu: {} as CpuTime, wallMs: 0 }));
  try {
    progress(`steps: ${count} executions' steps, ${batch} at a time`);
    // Each step over a batch before the next: rows in the state the workflow leaves them, and as
    // many capacity leases held at once as the lifecycle benchmark's concurrency.
    for (let from = 0; from < count; from += batch) {
      for (const [i, [, call]] of steps.entries()) {
        const startedAt = performance.now();
        const atStart = cpuTime();
        for (const id of ids.slice(from, from + batch)) await call(id);
        const total = totals[i]!;
        for (const [part, ms] of Object.entries(cpuSince(atStart))) total.cpu[part] = (total.cpu[part] ?? 0) + ms / count;
        total.wallMs += (performance.now() - startedAt) / count;
      }
    }
    return totals;
  } finally {
    await wd.close();
  }
}
