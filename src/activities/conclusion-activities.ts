import type { ConcludeInput, Conclusion } from '../contract/execution-activities.js';
import { Context } from '@temporalio/activity';
import { AgentUnreachableError } from '../agent/agent-errors.js';
import type { UsageReport } from '../domain/usage.js';
import { classifyFailure, failureClasses, infrastructureBoundSeconds } from '../domain/failure-classes.js';
import type { Logger } from '../util/logger.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { activityLogger } from './activity-logger.js';
import { classified } from './step-failure.js';
import { agentClientFor } from './agent-client-for.js';
import { announceFinished } from './notifier.js';

/**
 * The end of every execution, in the order that keeps the invariants: output, then the terminal
 * write, then the slot release (the reconciler restores the lease of a row it sees running, so a
 * released slot must never belong to a live row), then the announcement. It runs as a local
 * activity retried until Postgres and Redis take it, so every step is idempotent: the output
 * only lands on a live row, and a terminal row is never overwritten.
 */
export function createConclusionActivities(deps: LifelineDeps) {
  const clientFor = agentClientFor(deps);

  /**
   * The output of a run the agent reported finished. An agent that stays unreachable past
   * agentUnreachableSeconds (counted from the conclusion's first try), or answers with something
   * that is not the output (a protocol violation, a refusal), costs the output, never the terminal
   * status: the row must not stay running because of the agent.
   */
  async function finishedOutput(
    executionId: string,
    agent: string,
    log: Logger,
  ): Promise<{ output: string; bytes?: number; usage?: UsageReport } | { lost: string }> {
    const { cancellationSignal, info } = Context.current();
    try {
      const exec = await (await clientFor(agent)).get(executionId, cancellationSignal);
      if (exec?.output === undefined) return { lost: "[lifeline: the agent no longer had this execution's output]" };
      return { output: exec.output, bytes: exec.outputBytes, usage: exec.usage };
    } catch (err) {
      if (failureClasses[classifyFailure(err)].retry === 'never') {
        log.warn({ err: (err as Error).message }, 'agent answered without the output; concluding without it');
        return { lost: `[lifeline: output lost: the agent could not be asked for it (${(err as Error).message})]` };
      }
      const waitedMs = deps.clock() - info.scheduledTimestampMs;
      if (!(err instanceof AgentUnreachableError) || waitedMs < deps.settings.execution.agentUnreachableSeconds * 1000) throw err;
      log.warn({ err: err.message, waitedSeconds: Math.round(waitedMs / 1000) }, 'agent unreachable; concluding without its output');
      return { lost: `[lifeline: output lost: the agent was unreachable for ${Math.round(waitedMs / 1000)} s (${err.message})]` };
    }
  }

  return {
    async conclude(input: ConcludeInput): Promise<Conclusion> {
      return classified(() => conclude(input), infrastructureBoundSeconds);
    },

    /** The slot of an execution concluded earlier, once its agent process is confirmed gone. */
    async releaseSlot({ executionId, agent }: { executionId: string; agent: string }): Promise<void> {
      await classified(async () => {
        // Redis first: the hold (the truth a rebuild reads) goes only once the lease is gone for good.
        await deps.slots.release(agent, executionId);
        await deps.executions.clearSlotHold(executionId);
      }, infrastructureBoundSeconds);
    },
  };

  async function conclude(input: ConcludeInput): Promise<Conclusion> {
    const { executionId, agent, outcome, actor } = input;
    const log = activityLogger(deps.log, { executionId, agent });
    if (input.storeOutput) {
      const finished = await finishedOutput(executionId, agent, log);
      // Without the final output, the live tail the row already holds is the best there is: it stays, with the note.
      if ('lost' in finished) await deps.executions.noteLostOutput(executionId, finished.lost);
      else await deps.executions.saveOutput(executionId, finished.output, finished.bytes, finished.usage);
    }
    // Written before the terminal write: an execution holding capacity is always a live row or a hold,
    // which is what the leases are rebuilt from when Redis lost them.
    if (input.releaseSlot === false) await deps.executions.holdSlotWhileStopping(executionId, agent);
    let conclusion: Conclusion = { status: undefined, applied: false };
    if (outcome) {
      const reason = input.reason ?? outcome.error;
      const result = await deps.executions.transition(executionId, outcome.status, { actor, reason, outcome });
      conclusion = { status: result.applied ? result.to : result.current, applied: result.applied };
      if (result.applied) {
        const ran = result.startedAt && result.finishedAt ? (result.finishedAt.getTime() - result.startedAt.getTime()) / 1000 : undefined;
        deps.metrics.executionFinished(agent, result.tenant, outcome.status, outcome.errorKind, ran);
        if (result.usage) deps.metrics.usageUsed(agent, result.tenant, result.usage);
        log.info({ from: result.from, to: result.to, errorKind: outcome.errorKind }, 'terminal status written');
      } else {
        log.warn({ current: result.current, wanted: outcome.status }, 'terminal write skipped: row not in a live status');
      }
    }
    if (input.releaseSlot !== false) await deps.slots.release(agent, executionId);
    // Announced whenever the row carries this outcome, so a retry after a failed release announces
    // again: at least once, never for an ending someone else wrote.
    if (outcome && conclusion.status === outcome.status) {
      await announceFinished({ executionId, agent, outcome, actor, reason: input.reason }, deps.alerter, log);
    }
    return conclusion;
  }
}
