import type { Actor, ErrorKind, TerminalStatus } from '../../src/domain/execution-status.js';
import type { ExecutionSummary } from '../../src/store/execution-reader.js';
import type { FaultEvent } from './fault-injector.js';
import type { Behaviour, PlannedExecution } from './workload.js';

/** A terminal row as the checks compare it: status, error kind and who wrote it. */
export interface Outcome {
  status: TerminalStatus;
  errorKind: ErrorKind | null;
  actor: Actor;
}

/** The faults that could have changed how one execution ended. */
export interface FaultsTouching {
  cancelled: boolean;
  terminated: boolean;
  /** Workers SIGKILLed while the execution was running. */
  workerKillsWhileRunning: number;
  /** The agent server was down (restarting) while it may have had the run: from its start sent to its end. */
  agentRestartedWhileRunning: boolean;
  /** Rolling deploys and code-change rollouts under way while it was live: they may never change how it ends. */
  deploysWhileLive: number;
  /** Temporal was down (restarting) while it was live: neither may that. */
  temporalRestartedWhileLive: boolean;
}

const overlaps = (a: [number, number], b: [number, number]) => a[0] <= b[1] && b[0] <= a[1];

export function faultsTouching(row: ExecutionSummary, faults: FaultEvent[]): FaultsTouching {
  const injected = faults.filter((f) => f.error === undefined);
  const requested = (kind: 'cancel' | 'terminate') => injected.some((f) => f.kind === kind && f.target === row.id);
  const running: [number, number] | undefined = row.startedAt
    ? [row.startedAt.getTime(), (row.finishedAt ?? new Date()).getTime()]
    : undefined;
  const live: [number, number] = [row.createdAt.getTime(), (row.finishedAt ?? new Date()).getTime()];
  // The agent may have the run from the moment its start was sent: a restart before the row turned
  // running (the worker died in between) loses it as surely as one after.
  const withAgentFrom = row.startSentAt ?? row.startedAt;
  const withAgent: [number, number] | undefined = withAgentFrom
    ? [withAgentFrom.getTime(), (row.finishedAt ?? new Date()).getTime()]
    : undefined;
  // A kill hits the runs in flight at its instant; a restart or a deploy, everything in flight while it lasted.
  const during = (kinds: FaultEvent['kind'][], span: [number, number] | undefined, window: (f: FaultEvent) => [number, number]) =>
    span === undefined ? 0 : injected.filter((f) => kinds.includes(f.kind) && overlaps(span, window(f))).length;
  const lasting = (f: FaultEvent): [number, number] => [f.at, f.recoveredAt];
  return {
    cancelled: requested('cancel'),
    terminated: requested('terminate'),
    workerKillsWhileRunning: during(['worker_kill'], running, (f) => [f.at, f.at]),
    agentRestartedWhileRunning: during(['agent_server_restart'], withAgent, lasting) > 0,
    deploysWhileLive: during(['rolling_deploy', 'code_change'], live, lasting),
    temporalRestartedWhileLive: during(['temporal_restart'], live, lasting) > 0,
  };
}

const outcome = (status: TerminalStatus, errorKind: ErrorKind | null, actor: Actor = 'workflow'): Outcome => ({ status, errorKind, actor });

/** How the agent run ends by itself, when nothing interferes and it gets a slot. */
function naturalOutcome(behaviour: Behaviour): Outcome {
  switch (behaviour) {
    case 'succeed':
    case 'big-output':
    case 'long-run':
      return outcome('succeeded', null);
    case 'fail':
    case 'crash':
      return outcome('failed', 'agent_failed');
    case 'hang':
    case 'ignore-term':
      return outcome('timed_out', 'deadline_exceeded');
  }
}

/** Endings that only a fault makes legitimate; also what excuses an agent success that is not `succeeded`. */
export function faultOutcomes(touching: FaultsTouching): Outcome[] {
  const outcomes: Outcome[] = [];
  if (touching.cancelled) outcomes.push(outcome('cancelled', 'cancelled_by_operator', 'operator'));
  if (touching.terminated) outcomes.push(outcome('cancelled', 'closed_outside_workflow', 'reconciler'));
  if (touching.agentRestartedWhileRunning) {
    // The closing server stops its runs (a poll may see `cancelled`); the new one no longer knows them.
    outcomes.push(outcome('cancelled', 'agent_cancelled'), outcome('failed', 'agent_lost_execution'));
  }
  return outcomes;
}

/** Slack for comparing the queue wait with the queue timeout (timers and polls are not exact). */
const queueSlackMs = 1500;

/**
 * Every ending the behaviour, the busy policy and the faults that touched the execution make
 * correct. A busy agent legitimately skips (skip) or times out the wait (queue, and only once the
 * queue timeout has really passed).
 */
export function expectedOutcomes(planned: PlannedExecution, row: ExecutionSummary, touching: FaultsTouching): Outcome[] {
  const outcomes = [naturalOutcome(planned.behaviour), ...faultOutcomes(touching)];
  if (planned.busyPolicy === 'skip') outcomes.push(outcome('skipped', 'agent_busy'));
  const waitedMs = row.finishedAt ? row.finishedAt.getTime() - row.createdAt.getTime() : 0;
  if (planned.queueTimeoutSeconds !== undefined && waitedMs >= planned.queueTimeoutSeconds * 1000 - queueSlackMs) {
    outcomes.push(outcome('timed_out', 'queue_timeout'));
  }
  return outcomes;
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.status === b.status && a.errorKind === b.errorKind && a.actor === b.actor;
}

export function describeOutcome(o: Outcome): string {
  return `${o.status}${o.errorKind ? `/${o.errorKind}` : ''} by ${o.actor}`;
}

/** The faults that touched an execution, in words: "cancelled", "2 worker kills while running"... */
export function describeFaults(touching: FaultsTouching): string[] {
  return [
    touching.cancelled && 'cancelled',
    touching.terminated && 'terminated',
    touching.workerKillsWhileRunning > 0 && `${touching.workerKillsWhileRunning} worker kill(s) while running`,
    touching.agentRestartedWhileRunning && 'agent server restart while running',
    touching.deploysWhileLive > 0 && `${touching.deploysWhileLive} deploy(s) while live`,
    touching.temporalRestartedWhileLive && 'Temporal restart while live',
  ].filter((f): f is string => typeof f === 'string');
}
