import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowClient } from '@temporalio/client';
import type { ExecutionStatus } from '../../src/domain/execution-status.js';
import type { PostgresServer } from '../../src/stack/postgres-server.js';
import type { ChaosAgentServer } from './chaos-agent-server.js';
import type { ChaosRedis } from './chaos-redis.js';
import type { Random } from './random.js';
import type { WorkerPool } from './worker-pool.js';

export const faultKinds = [
  'worker_kill',
  'rolling_deploy',
  'code_change',
  'agent_server_restart',
  'redis_restart',
  'redis_failover',
  'redis_flush',
  'postgres_restart',
  'temporal_restart',
  'cancel',
  'terminate',
] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** When it is due, in ms from the start of the workload. */
  atMs: number;
}

export interface FaultEvent {
  kind: FaultKind;
  /** When the fault hit: the kill, the server's stop, the cancel or terminate request. */
  at: number;
  /** When it was over: the replacement worker or the restarted server ready (`at` for a request). */
  recoveredAt: number;
  target?: string;
  detail?: string;
  /** The fault could not be injected. */
  error?: string;
}

export interface FaultTargets {
  workers: WorkerPool;
  agentServer: ChaosAgentServer;
  postgres: PostgresServer;
  redis: ChaosRedis;
  /** The agents, whose leases a Redis fault loses (the time until they are rebuilt is measured). */
  agents: string[];
  workflows: WorkflowClient;
  /** The private Temporal dev server, restartable with its state; absent when the run uses a given server. */
  /** The private Temporal server (the dev server, or a real one whose restart takes its frontend down too). */
  temporal: { restart(): Promise<void> } | undefined;
  /** Rolls out a new build with changed workflow code (code-change-rollout.ts). */
  rollOut(): Promise<Partial<FaultEvent>>;
  /** The run's executions that are queued or running now. */
  liveExecutions(): Promise<{ id: string; status: ExecutionStatus }[]>;
}

/** How long Postgres stays down, so that the outage hits activities in flight. */
const outageMs = 2000;

/** Spreads the faults over the middle of the workload window, where executions are in every phase. */
export function planFaults(random: Random, counts: Record<FaultKind, number>, windowMs: number): PlannedFault[] {
  const plan: PlannedFault[] = [];
  for (const kind of faultKinds) {
    for (let i = 0; i < counts[kind]; i += 1) plan.push({ kind, atMs: Math.round(windowMs * (0.1 + 0.8 * random.next())) });
  }
  return plan.sort((a, b) => a.atMs - b.atMs);
}

/**
 * Injects the planned faults one after the other, each at its time or as soon as the previous one
 * is over (cancels and terminations on a track of their own): one fault's recovery (a worker's start runs migrations) must not depend on another's.
 * Deploys are the exception: a rolling deploy or a rollout (whose old build drains for as long as
 * its longest execution) goes on in the background while the other faults land, as deploys do in
 * production; the next deploy waits for it, and so does the end.
 */
export async function injectFaults(
  plan: PlannedFault[],
  targets: FaultTargets,
  opts: { random: Random; startedAt: number; signal: AbortSignal; progress: (line: string) => void },
): Promise<FaultEvent[]> {
  const events: FaultEvent[] = [];
  const targeted = new Set<string>();
  const report = (event: FaultEvent) =>
    opts.progress(`fault ${event.kind} ${[event.target, event.detail, event.error && `FAILED: ${event.error}`].filter(Boolean).join(' ')}`);
  let deploying: Promise<void> = Promise.resolve();
  // The time to rebuilt leases after each Redis fault, measured while the next faults land.
  const watches: Promise<void>[] = [];
  const track = async (faults: PlannedFault[]) => {
    for (const fault of faults) {
      await delay(Math.max(0, opts.startedAt + fault.atMs - Date.now()), undefined, { signal: opts.signal });
      const deploy = fault.kind === 'rolling_deploy' || fault.kind === 'code_change';
      if (deploy) await deploying;
      const at = Date.now();
      const event: FaultEvent = { kind: fault.kind, at, recoveredAt: at };
      events.push(event);
      const done = inject(fault.kind, targets, opts.random, targeted).then(
        (outcome) => {
          report(Object.assign(event, outcome));
          if (fault.kind.startsWith('redis_')) watches.push(watchRebuild(event, targets, opts.progress));
        },
        (err: unknown) =>
          report(Object.assign(event, { recoveredAt: Date.now(), error: err instanceof Error ? err.message : String(err) })),
      );
      if (deploy) deploying = done;
      else await done;
    }
  };
  // A cancel or terminate is a request of a moment: on its own track, it lands at its time, not
  // behind a slow restart, while there are still live executions to target.
  const request = (f: PlannedFault) => f.kind === 'cancel' || f.kind === 'terminate';
  await Promise.all([track(plan.filter(request)), track(plan.filter((f) => !request(f)))]);
  await deploying;
  await Promise.all(watches);
  return events;
}

async function inject(kind: FaultKind, targets: FaultTargets, random: Random, targeted: Set<string>): Promise<Partial<FaultEvent>> {
  switch (kind) {
    case 'worker_kill': {
      const { killed, replacement } = await targets.workers.killAndReplace(random);
      return { target: killed, detail: `replaced by ${replacement}`, recoveredAt: Date.now() };
    }
    case 'rolling_deploy': {
      const replaced = await targets.workers.rollingRestart();
      return { recoveredAt: Date.now(), detail: `${replaced.length} workers replaced in turn` };
    }
    case 'code_change':
      return targets.rollOut();
    case 'temporal_restart': {
      if (!targets.temporal) throw new Error('the run uses a Temporal server it did not start');
      const at = Date.now();
      await targets.temporal.restart();
      const recoveredAt = Date.now();
      return { at, recoveredAt, detail: `down ${recoveredAt - at} ms, state kept` };
    }
    case 'agent_server_restart': {
      const { downAt, upAt } = await targets.agentServer.restart();
      return { at: downAt, recoveredAt: upAt, detail: `down ${upAt - downAt} ms` };
    }
    case 'redis_restart':
      return targets.redis.restart();
    case 'redis_failover':
      return targets.redis.failover(random);
    case 'redis_flush':
      return targets.redis.flush();
    case 'postgres_restart': {
      const server = targets.postgres;
      const at = Date.now();
      await server.stop();
      await delay(outageMs);
      await server.start();
      const recoveredAt = Date.now();
      return { at, recoveredAt, detail: `down ${recoveredAt - at} ms` };
    }
    case 'cancel':
    case 'terminate':
      return requestOnLiveExecution(kind, targets, random, targeted);
  }
}

/** How long to watch for rebuilt leases after a Redis fault. */
const rebuildWatchMs = 15_000;
/** How long a cancel or terminate looks for a live execution to hit; submissions go on meanwhile. */
const requestTargetWaitMs = 15_000;

/**
 * The time from a Redis fault to every agent's leases current on the current master again (rebuilt
 * from Postgres after a loss or a failover), in words.
 */
async function watchRebuild(event: FaultEvent, targets: FaultTargets, progress: (line: string) => void): Promise<void> {
  const text = await rebuildTime(targets, event.at);
  event.detail = [event.detail, text].filter(Boolean).join('; ');
  progress(`after ${event.kind}: ${text}`);
}

async function rebuildTime(targets: FaultTargets, since: number): Promise<string> {
  const times = await targets.redis.timeToRebuild(targets.agents, since, rebuildWatchMs).catch(() => undefined);
  if (!times) return 'leases not watched: the master could not be read';
  const rebuilt = [...times].filter((t): t is [string, number] => t[1] !== undefined);
  const missing = [...times].filter(([, ms]) => ms === undefined).map(([agent]) => agent);
  if (rebuilt.length === 0) return `no leases rebuilt within ${rebuildWatchMs} ms`;
  const slowest = Math.max(...rebuilt.map(([, ms]) => ms));
  return (
    `leases rebuilt on the master for ${rebuilt.length}/${times.size} agents within ${slowest} ms of the fault` +
    (missing.length > 0 ? ` (not within ${rebuildWatchMs} ms: ${missing.join(', ')})` : '')
  );
}

/**
 * Cancels or terminates a live execution not targeted before, preferring running ones (whose agent
 * process must then be stopped). Executions end all the time: one that closed meanwhile is replaced
 * by another, read afresh, and a moment with none live is waited out, while submissions go on.
 */
async function requestOnLiveExecution(
  kind: 'cancel' | 'terminate',
  targets: FaultTargets,
  random: Random,
  targeted: Set<string>,
): Promise<Partial<FaultEvent>> {
  const deadline = Date.now() + requestTargetWaitMs;
  let lastError: unknown = new Error('no live execution to target');
  while (Date.now() < deadline) {
    // Read through a Postgres restart (another fault may be under way): an operator would retry too.
    const live = (await retryFor(10_000, () => targets.liveExecutions())).filter((e) => !targeted.has(e.id));
    const running = live.filter((e) => e.status === 'running');
    const queued = live.filter((e) => e.status === 'queued');
    if (running.length === 0 && queued.length === 0) {
      await delay(250);
      continue;
    }
    const pool = running.length > 0 && (queued.length === 0 || random.next() < 0.75) ? running : queued;
    const candidate = pool[random.int(0, pool.length - 1)]!;
    const at = Date.now();
    try {
      const handle = targets.workflows.getHandle(candidate.id);
      if (kind === 'cancel') await handle.cancel();
      else await handle.terminate('chaos: terminated outside Lifeline');
      targeted.add(candidate.id);
      return { at, recoveredAt: at, target: candidate.id, detail: `while ${candidate.status}` };
    } catch (err) {
      lastError = err;
      // Closed meanwhile: never a target again.
      targeted.add(candidate.id);
    }
  }
  throw lastError;
}

/** `read` again every half second while it fails, for up to `ms`; then its last error. */
async function retryFor<T>(ms: number, read: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await delay(500);
    }
  }
}
