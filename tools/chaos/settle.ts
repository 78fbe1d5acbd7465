import { setTimeout as delay } from 'node:timers/promises';
import type { ChaosEnvironment } from './chaos-environment.js';
import { unsettledWork } from './run-facts.js';
import type { PlannedExecution } from './workload.js';

const pollMs = 1000;
const progressEveryMs = 10_000;

/**
 * Waits until every execution has ended and nothing is left behind (workflows, leases, waiters,
 * agent runs and processes), or until the deadline. A read that fails (a server still coming
 * back) counts as not settled yet.
 */
export async function waitToSettle(
  env: ChaosEnvironment,
  plan: PlannedExecution[],
  opts: { deadlineMs: number; signal: AbortSignal; progress: (line: string) => void },
): Promise<{ settled: boolean; unsettled: string[] }> {
  const deadline = Date.now() + opts.deadlineMs;
  let lastProgress = 0;
  for (;;) {
    let unsettled: string[];
    try {
      unsettled = await unsettledWork(env, plan);
    } catch (err) {
      unsettled = [`cannot tell: ${err instanceof Error ? err.message : String(err)}`];
    }
    if (unsettled.length === 0) return { settled: true, unsettled };
    if (Date.now() >= deadline) return { settled: false, unsettled };
    if (Date.now() - lastProgress >= progressEveryMs) {
      lastProgress = Date.now();
      opts.progress(`settling: ${unsettled.join(', ')}`);
    }
    await delay(pollMs, undefined, { signal: opts.signal });
  }
}
