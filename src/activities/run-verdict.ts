import { ApplicationFailure } from '@temporalio/activity';
import type { AgentExecution } from '../agent/protocol.js';
import type { ProgressMark } from '../domain/execution-types.js';
import { costOverBudget } from '../domain/usage.js';
import type { LifelineMetrics } from '../metrics/lifeline-metrics.js';
import type { Logger } from '../util/logger.js';
import { createProgressWatch, type Stall } from './progress-watch.js';

export interface RunVerdictOptions {
  agent: string;
  executionId: string;
  idleTimeoutSeconds?: number;
  maxCostUsd?: number;
  /** Why the run's tenant must stop its runs in flight now, if it must (tenant-budget-watch.ts). */
  tenantStop?: () => string | undefined;
  /** The progress mark a previous attempt left in its heartbeat. */
  prior?: ProgressMark;
  log: Logger;
  metrics: Pick<LifelineMetrics, 'runStalled'>;
}

/**
 * The limits an execution set on its run, judged from what its agent reports on every read: no
 * progress within the idle timeout, its tenant's budget spent (under the \`stop\` policy), or a
 * cost in USD over its own budget. Each is a non-retryable
 * failure of the run activity; the workflow's compensation then stops the process.
 */
export function createRunVerdict(opts: RunVerdictOptions) {
  const { agent, executionId, idleTimeoutSeconds, maxCostUsd, log } = opts;
  const progress = createProgressWatch(idleTimeoutSeconds, opts.prior);
  return {
    progress,

    /** The failure that ends this run now, if its report calls for one. */
    judge(exec: AgentExecution, now: number): ApplicationFailure | undefined {
      const stall = progress.observe(exec, now);
      if (stall) {
        log.warn(stall, 'no progress within the idle timeout; ending the run as stalled');
        opts.metrics.runStalled(agent);
        return stalledFailure(agent, executionId, stall, idleTimeoutSeconds);
      }
      const tenantStop = exec.status === 'running' ? opts.tenantStop?.() : undefined;
      if (tenantStop !== undefined) {
        log.warn({ reason: tenantStop }, "the tenant's budget is spent and its policy stops runs in flight; ending the run");
        return ApplicationFailure.create({
          type: 'tenant_over_budget',
          message: `${tenantStop}; execution ${executionId} was stopped in flight (over-budget policy: stop)`,
          nonRetryable: true,
        });
      }
      const spent = exec.status === 'running' ? costOverBudget(exec.usage, maxCostUsd) : undefined;
      if (spent === undefined) return undefined;
      log.warn({ costUsd: spent, maxCostUsd }, 'reported cost over the budget; ending the run');
      return ApplicationFailure.create({
        type: 'budget_exceeded',
        message: `agent "${agent}" reported a cost of ${spent} USD on execution ${executionId}, over its budget of ${maxCostUsd} USD`,
        nonRetryable: true,
      });
    },
  };
}

function stalledFailure(agent: string, executionId: string, stall: Stall, idleTimeoutSeconds: number | undefined): ApplicationFailure {
  const output = stall.outputBytes === undefined ? '' : ` after ${stall.outputBytes} bytes of output`;
  return ApplicationFailure.create({
    type: 'agent_stalled',
    message: `agent "${agent}" reported no progress on execution ${executionId} for ${stall.idleSeconds} s (idle timeout ${idleTimeoutSeconds} s; last progress at ${stall.lastProgressAt}${output})`,
    nonRetryable: true,
  });
}
