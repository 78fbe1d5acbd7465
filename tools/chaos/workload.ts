import { setTimeout as delay } from 'node:timers/promises';
import { LifelineUnavailableError } from '../../src/client/client-errors.js';
import type { LifelineClient } from '../../src/client/lifeline-client.js';
import type { BusyPolicy } from '../../src/domain/execution-types.js';
import type { Random } from './random.js';

/** What a demo agent run does, picked through its prompt (see src/agent-server/demo-behaviour.ts). */
export type Behaviour = 'succeed' | 'fail' | 'crash' | 'hang' | 'ignore-term' | 'big-output' | 'long-run';

export interface PlannedExecution {
  executionId: string;
  agent: string;
  tenant: string;
  behaviour: Behaviour;
  prompt: string;
  timeoutSeconds: number;
  busyPolicy: BusyPolicy;
  queueTimeoutSeconds: number | undefined;
  /** When it is submitted, in ms from the start of the workload. */
  submitAtMs: number;
}

export interface Submission {
  executionId: string;
  attempts: number;
  error?: string;
}

const behaviourWeights: [Behaviour, number][] = [
  ['succeed', 45],
  ['fail', 10],
  ['crash', 5],
  ['hang', 12],
  ['ignore-term', 6],
  ['big-output', 6],
  ['long-run', 6],
];

/** How long a start is retried while Lifeline is unavailable (a Postgres restart takes seconds). */
const submitRetryMs = 60_000;

function promptFor(behaviour: Behaviour, random: Random, executionId: string): string {
  switch (behaviour) {
    case 'succeed':
      return `succeed ${random.int(0, 3)} chaos ${executionId}`;
    case 'fail':
      return `fail ${random.int(1, 3)}`;
    case 'big-output':
      return 'big-output 2';
    case 'long-run':
      return `succeed 20 long run ${executionId}`;
    default:
      return behaviour;
  }
}

/** Short for the runs that never end by themselves, so their deadline ends them within the run. */
function timeoutFor(behaviour: Behaviour, random: Random): number {
  if (behaviour === 'hang' || behaviour === 'ignore-term') return random.int(4, 8);
  if (behaviour === 'long-run') return 60;
  return 30;
}

/** The executions of a run, from the seed: behaviour, agent, busy policy, timeouts and submit time. */
export function planWorkload(
  random: Random,
  opts: { runId: string; executions: number; agents: string[]; tenants: string[]; submitSeconds: number },
): PlannedExecution[] {
  const plan: PlannedExecution[] = [];
  for (let i = 0; i < opts.executions; i += 1) {
    const executionId = `chaos-${opts.runId}-${String(i + 1).padStart(4, '0')}`;
    const behaviour = random.weighted(behaviourWeights);
    const busyPolicy: BusyPolicy = random.next() < 0.3 ? 'skip' : 'queue';
    plan.push({
      executionId,
      agent: random.pick(opts.agents),
      tenant: random.pick(opts.tenants),
      behaviour,
      prompt: promptFor(behaviour, random, executionId),
      timeoutSeconds: timeoutFor(behaviour, random),
      busyPolicy,
      queueTimeoutSeconds: busyPolicy === 'queue' ? random.int(15, 45) : undefined,
      submitAtMs: Math.round(random.next() * opts.submitSeconds * 1000),
    });
  }
  return plan.sort((a, b) => a.submitAtMs - b.submitAtMs);
}

/** Starts one execution, retrying while Lifeline is unavailable; the fixed id makes a retry idempotent. */
async function submit(client: LifelineClient, planned: PlannedExecution, signal: AbortSignal): Promise<Submission> {
  const giveUpAt = Date.now() + submitRetryMs;
  for (let attempts = 1; ; attempts += 1) {
    try {
      await client.startExecution({
        executionId: planned.executionId,
        agent: planned.agent,
        tenant: planned.tenant,
        prompt: planned.prompt,
        timeoutSeconds: planned.timeoutSeconds,
        busyPolicy: planned.busyPolicy,
        queueTimeoutSeconds: planned.queueTimeoutSeconds,
        trigger: 'chaos',
      });
      return { executionId: planned.executionId, attempts };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof LifelineUnavailableError) || Date.now() >= giveUpAt) {
        return { executionId: planned.executionId, attempts, error: message };
      }
      await delay(500);
      signal.throwIfAborted();
    }
  }
}

/**
 * Submits every planned execution at its time, without waiting for earlier ones to be accepted:
 * an outage delays only the starts it hits.
 */
export async function submitWorkload(
  plan: PlannedExecution[],
  client: LifelineClient,
  opts: { startedAt: number; signal: AbortSignal },
): Promise<Submission[]> {
  const submissions: Promise<Submission>[] = [];
  for (const planned of plan) {
    await delay(Math.max(0, opts.startedAt + planned.submitAtMs - Date.now()), undefined, { signal: opts.signal });
    submissions.push(submit(client, planned, opts.signal));
  }
  return Promise.all(submissions);
}
