import type { RunAgentInput, StopAgentInput, StoppedRun } from '../contract/execution-activities.js';
import { isTerminal } from '../domain/execution-status.js';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { AgentClient } from '../agent/agent-client.js';
import { AgentRejectedError, AgentUnreachableError } from '../agent/agent-errors.js';
import type { AgentExecution } from '../agent/protocol.js';
import { stopAndWait } from '../agent/stop-and-wait.js';
import { AgentTokenError } from '../agent/token-resolution.js';
import type { AgentRunSummary, RunFailureDetails, RunHeartbeat } from '../domain/execution-types.js';
import type { Logger } from '../util/logger.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { activityLogger } from './activity-logger.js';
import { agentClientFor } from './agent-client-for.js';
import { closedBeforeStart, markRunning } from './mark-running.js';
import { createLiveReporter } from './live-report.js';
import { createRunVerdict } from './run-verdict.js';
import { createTenantBudgetWatch } from './tenant-budget-watch.js';
import { retriedQuietly } from './quiet-retry.js';
import { classified } from './step-failure.js';
import { agentStartedSignal } from '../contract/execution-contract.js';

/**
 * The worker is shutting down (a deploy): the run goes on on the agent, and another worker
 * re-attaches to it right away, instead of after the shutdown grace time and a retry backoff.
 */
function handedOver(): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'worker_shutdown',
    message: 'this worker is shutting down; the run goes on and another worker re-attaches to it',
    nextRetryDelay: '100 ms',
  });
}

function lostExecution(agent: string, executionId: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'agent_lost_execution',
    message: `agent "${agent}" no longer knows execution ${executionId} (restarted or lost it)`,
    nonRetryable: true,
  });
}

/**
 * The agent refused the start itself (a bad token, an invalid request), or could not be called at
 * all (its token reference does not resolve): it runs no process for this execution, so there is
 * nothing to stop. The details tell the workflow so.
 */
function neverStarted(type: 'agent_rejected' | 'agent_misconfigured', err: Error): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message: err.message,
    nonRetryable: true,
    details: [{ processStarted: false } satisfies RunFailureDetails],
  });
}

/** Since when the agent has been unreachable, across this run's attempts; unset while it answers. */
interface UnreachableClock {
  since?: number;
}

/** A third of the heartbeat timeout, between 1 and 10 s: a request never outlasts a heartbeat's window. */
export function agentRequestTimeoutMs(heartbeatTimeoutSeconds: number): number {
  return Math.min(10_000, Math.max(1000, Math.round((heartbeatTimeoutSeconds * 1000) / 3)));
}

function runSummary(exec: AgentExecution, status: AgentRunSummary['status']): AgentRunSummary {
  return {
    status,
    exitCode: exec.exitCode ?? null,
    error: exec.error ?? null,
    outputBytes: exec.outputBytes ?? Buffer.byteLength(exec.output ?? '', 'utf8'),
    // Only when reported: a run's summary stays as it was for agents that report none.
    ...(exec.finishedAt !== undefined && { finishedAt: exec.finishedAt }),
    ...(exec.usage?.cost?.currency === 'USD' && { costUsd: exec.usage.cost.amount }),
  };
}

export function createRunActivities(deps: LifelineDeps) {
  const settings = deps.settings.execution;
  // Every wait between heartbeats stays well inside the heartbeat timeout, so an unreachable or
  // frozen agent is never mistaken for a dead worker.
  const requestTimeoutMs = agentRequestTimeoutMs(settings.heartbeatTimeoutSeconds);
  // A long poll and its answer take at most two thirds of the heartbeat timeout: a heartbeat follows each.
  const longPollSeconds = Math.max(1, Math.floor(settings.heartbeatTimeoutSeconds / 3));
  const maxBackoffMs = Math.min(5000, requestTimeoutMs);

  const clientFor = agentClientFor(deps);
  const tenantBudgets = createTenantBudgetWatch(deps);

  /**
   * Calls the agent, riding out an unreachable agent (network error, 5xx) for up to
   * agentUnreachableSeconds with backoff; `onWait` heartbeats so the wait stays cancellable.
   */
  async function callAgent<T>(
    call: (signal: AbortSignal) => Promise<T>,
    unreachable: UnreachableClock,
    onWait: () => void,
    log: Logger,
  ): Promise<T> {
    const ctx = Context.current();
    let backoffMs = 250;
    for (;;) {
      try {
        const answer = await call(ctx.cancellationSignal);
        unreachable.since = undefined;
        return answer;
      } catch (err) {
        if (!(err instanceof AgentUnreachableError)) throw err;
        const now = deps.clock();
        const since = (unreachable.since ??= now);
        const seconds = Math.round((now - since) / 1000);
        if (now - since >= settings.agentUnreachableSeconds * 1000) {
          throw ApplicationFailure.create({
            type: 'agent_unreachable',
            message: `${err.message} (unreachable for ${seconds} s, limit ${settings.agentUnreachableSeconds} s)`,
            nonRetryable: true,
          });
        }
        log.warn({ err: err.message, unreachableForSeconds: seconds }, 'agent unreachable, retrying');
        onWait();
        await ctx.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      }
    }
  }

  async function stopAndLog(client: AgentClient, executionId: string, log: Logger): Promise<void> {
    const exec = await stopAndWait(client, executionId, settings.stopWaitSeconds);
    log.info({ agentStatus: exec?.status }, 'agent process stopped');
  }

  return {
    /**
     * Starts the agent execution, or re-attaches to it when an earlier attempt (on a worker that
     * died) already started it, then polls until it ends: heartbeating the agent's state and
     * renewing the capacity lease on every poll. On cancellation it stops the agent process.
     */
    async runAgent(input: RunAgentInput): Promise<AgentRunSummary> {
      // The deadline bounds it: agent errors are classified, an unreachable agent has its own limit.
      return classified(() => runAgent(input));
    },

    /**
     * Compensation: stop the process if it may still run, and return the agent's record of the
     * ended run (undefined when the agent does not know it). Idempotent.
     */
    async stopAgent(input: StopAgentInput): Promise<StoppedRun | undefined> {
      // Retried for up to a day while its slot is held: one line per failed attempt, not a stack trace.
      return retriedQuietly(activityLogger(deps.log, input), 'agent process not confirmed stopped', () =>
        classified(async () => {
          const log = activityLogger(deps.log, input);
          const exec = await stopAndWait(await clientFor(input.agent), input.executionId, input.waitSeconds);
          log.info({ agentStatus: exec?.status }, 'agent process stopped');
          if (!exec || exec.status === 'running') return undefined;
          return runSummary(exec, exec.status);
        }),
      );
    },
  };

  /**
   * Stores the output of a run whose first answer had it ended, so that its conclusion need not ask
   * the agent for it again. Best effort: when Postgres does not take it, the conclusion stores it.
   */
  async function storedOutput(executionId: string, exec: AgentExecution, log: Logger): Promise<boolean> {
    if (exec.output === undefined) return false;
    return deps.executions.saveOutput(executionId, exec.output, exec.outputBytes, exec.usage).then(
      () => true,
      (err: Error) => {
        log.warn({ err: err.message }, 'could not store the output yet; the conclusion stores it');
        return false;
      },
    );
  }

  /** Informational (the live state and search attributes): a signal that cannot be sent only leaves them behind. */
  function announceStarted(executionId: string, log: Logger): void {
    deps.workflows
      .getHandle(executionId)
      .signal(agentStartedSignal)
      .catch((err: Error) => log.warn({ err: err.message }, 'could not tell the workflow the agent has the run'));
  }

  /**
   * When an earlier attempt may have sent the start: it recorded `start_sent_at` just before it did
   * (earlier builds turned the row `running` instead). Only a retry asks (a build before the run
   * activity marked the row had the workflow mark it before the first attempt). Undefined: no start
   * was sent.
   */
  async function startMaybeSentAt(executionId: string): Promise<Date | undefined> {
    if (Context.current().info.attempt <= 1) return undefined;
    const row = await deps.executions.get(executionId);
    if (row?.status !== 'running' && row?.status !== 'queued') return undefined;
    return row.startSentAt ?? (row.status === 'running' ? (row.startedAt ?? undefined) : undefined);
  }

  /**
   * The agent has the run: the row turns `running` (once; a re-attaching attempt finds it so). A row
   * someone else ended meanwhile gets no run: its process is stopped (the reconciler stops it if this
   * cannot) and nothing else is written.
   */
  async function accepted(client: AgentClient, executionId: string, agent: string, log: Logger): Promise<void> {
    const status = await markRunning(deps, executionId, agent, 'the agent accepted the start');
    if (status === 'running') return;
    await stopAndLog(client, executionId, log).catch((err: Error) =>
      log.warn({ err: err.message }, 'could not stop the agent run of an execution that ended meanwhile; the reconciler stops it'),
    );
    throw closedBeforeStart(executionId, status);
  }

  /**
   * A retry without heartbeat details (Temporal lost them in a restart, or none was recorded yet)
   * whose earlier attempt may have sent the start, and whose agent does not know the run: the agent
   * restarted since (it lost the run: starting it again could do its work twice), or the start never
   * reached it or is still on its way (then the same agent instance deduplicates a start by id).
   * Only an agent that says when it started (protocol.ts agentStartedAtHeader) tells them apart,
   * comparing its clock with Postgres': a margin for clocks that disagree would fail every retry
   * on an agent started just before its runs (a test's, a fresh deploy's), so none is taken. An
   * agent clock behind Postgres' misjudges only a restart within that lag of the start.
   */
  function restartedSince(client: AgentClient, maybeSentAt: Date): boolean {
    const agentStartedAt = client.agentStartedAt;
    return agentStartedAt !== undefined && agentStartedAt.getTime() > maybeSentAt.getTime();
  }

  async function runAgent(input: RunAgentInput): Promise<AgentRunSummary> {
    const ctx = Context.current();
    const { executionId, agent } = input;
    const log = activityLogger(deps.log, { executionId, agent });
    const prior = ctx.info.heartbeatDetails as RunHeartbeat | undefined;
    // A re-attaching attempt may find the token gone while the process runs: then a stop is still owed.
    const client = await clientFor(agent, requestTimeoutMs).catch((err: unknown) => {
      throw !prior?.started && err instanceof AgentTokenError ? neverStarted('agent_misconfigured', err) : err;
    });
    // Kept in the heartbeat, so the agent's unreachable time counts across attempts.
    const unreachable: UnreachableClock = { since: prior?.unreachableSince };
    let polls = prior?.polls ?? 0;
    // An execution that set none is judged by its agent's default idle timeout, which admission recorded
    // in its row. Postgres away must not cost a re-attach: then this attempt goes without one.
    const idleTimeoutSeconds =
      (input.idleTimeoutSeconds !== undefined
        ? input.idleTimeoutSeconds
        : await deps.executions.idleTimeoutOf(executionId).catch((err: Error) => {
            log.warn({ err: err.message }, "could not read the execution's idle timeout; this attempt runs without one");
            return null;
          })) ?? undefined;
    const { tenant } = input;
    const verdict = createRunVerdict({
      ...input,
      idleTimeoutSeconds,
      prior: prior?.progress,
      log,
      metrics: deps.metrics,
      ...(tenant !== undefined && { tenantStop: () => tenantBudgets.stopReason(tenant) }),
    });
    const live = createLiveReporter(deps.executions, executionId, log);
    let exec: AgentExecution | undefined;
    let renewing: Promise<unknown> | undefined;
    const beat = () =>
      ctx.heartbeat({
        started: true,
        agentStatus: exec?.status ?? 'running',
        pid: exec?.pid,
        polls,
        unreachableSince: unreachable.since,
        progress: verdict.progress.mark,
      } satisfies RunHeartbeat);
    const start = () =>
      callAgent(
        (s) =>
          client.start({ id: executionId, prompt: input.prompt, timeoutSeconds: input.timeoutSeconds, metadata: input.metadata ?? {} }, s),
        unreachable,
        beat,
        log,
      ).catch((err: unknown) => {
        throw err instanceof AgentRejectedError ? neverStarted('agent_rejected', err) : err;
      });
    try {
      const maybeSentAt = prior?.started ? undefined : await startMaybeSentAt(executionId);
      if (prior?.started || maybeSentAt) {
        exec = await callAgent((s) => client.get(executionId, s), unreachable, beat, log);
        if (exec) log.info({ pid: exec.pid, agentStatus: exec.status }, 're-attached to the running agent execution');
        else if (!maybeSentAt || restartedSince(client, maybeSentAt)) throw lostExecution(agent, executionId);
        else {
          exec = await start();
          log.info({ pid: exec.pid }, 'agent execution started by a retry (the agent, up all along, never had it)');
        }
      } else {
        // Recorded before it is sent, so that a retry knows a start may have reached the agent.
        const status = await deps.executions.startSending(executionId);
        if (status !== undefined && isTerminal(status)) throw closedBeforeStart(executionId, status);
        exec = await start();
        log.info({ pid: exec.pid }, 'agent execution started');
      }
      // `running` means the agent has the run: not when the slot came, nor when the start was sent.
      await accepted(client, executionId, agent, log);
      const ended = verdict.judge(exec, deps.clock());
      if (ended) throw ended;
      // A run the agent already reports ended goes straight to its conclusion, its output stored here
      // (storedOutput): no heartbeat, no live report and no workflow task for a `running` the workflow
      // would write over at once. (A retry of this attempt finds start_sent_at and re-attaches without the heartbeat.)
      const endedAtOnce = exec.status !== 'running';
      if (!endedAtOnce) {
        beat();
        live.offer(exec, deps.clock());
        announceStarted(executionId, log);
      }
      // A deploy's drain ends a long poll at once: the run is handed over without waiting for the agent's answer.
      const pollSignal = AbortSignal.any([ctx.cancellationSignal, deps.draining]);
      let readAt = deps.clock();
      while (exec.status === 'running') {
        // Reads are at least a poll interval apart. A long poll takes that long by itself (the agent
        // answers when the run ends, which is then seen at once); a plain read, or an agent that
        // answers a long poll at once, waits out the rest.
        const sinceRead = deps.clock() - readAt;
        if (sinceRead < settings.pollIntervalMs) await ctx.sleep(settings.pollIntervalMs - sinceRead);
        if (deps.draining.aborted) throw handedOver();
        readAt = deps.clock();
        const waitSeconds = verdict.progress.waitSeconds(longPollSeconds, readAt);
        const withTail = live.due(readAt);
        exec = await callAgent(
          () => client.get(executionId, pollSignal, { waitSeconds, outputTail: withTail, costAboveUsd: input.maxCostUsd }),
          unreachable,
          beat,
          log,
        ).catch((err: unknown) => {
          throw deps.draining.aborted ? handedOver() : err;
        });
        if (!exec) throw lostExecution(agent, executionId);
        polls += 1;
        const ended = verdict.judge(exec, deps.clock());
        if (ended) throw ended;
        if (withTail) live.offer(exec, deps.clock());
        // Not awaited: a slow or down Redis must never delay the heartbeat (that would look like a dead worker).
        renewing ??= deps.slots
          .renew(agent, executionId)
          .then(
            (held) =>
              held ||
              deps.repeatedWarnings.warn(
                log,
                `lease-missing:${agent}`,
                { agent },
                'capacity lease is missing (Redis restarted?); the reconciler restores it',
              ),
            (err: Error) =>
              deps.repeatedWarnings.warn(
                log,
                `lease-renew:${agent}`,
                { agent, err: err.message },
                'could not renew the capacity lease; will retry on the next poll',
              ),
          )
          .finally(() => {
            renewing = undefined;
          });
        beat();
      }
      const summary = runSummary(exec, exec.status);
      // Otherwise the output is stored by the conclusion, so a Postgres outage cannot cost this run an attempt.
      return endedAtOnce && (await storedOutput(executionId, exec, log)) ? { ...summary, outputStored: true } : summary;
    } catch (err) {
      if (err instanceof CancelledFailure || ctx.cancellationSignal.aborted) {
        // Only a cancel the workflow asked for stops the process. This attempt may also end because
        // it timed out (a late heartbeat under load), its task is gone, or the worker shuts down:
        // then a retry re-attaches, so the process must go on running. The deadline and a
        // terminated workflow are handled by the workflow's compensation and the reconciler.
        if (ctx.cancellationDetails?.cancelRequested) {
          await stopAndLog(client, executionId, log).catch((stopErr: Error) =>
            log.warn({ err: stopErr.message }, 'could not stop the agent process on cancellation; the workflow will retry'),
          );
        }
        throw err;
      }
      throw err;
    } finally {
      await live.settle(requestTimeoutMs);
    }
  }
}
