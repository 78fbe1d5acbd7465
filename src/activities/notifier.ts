import type { Alerter } from '../alerts/webhook.js';
import type { Actor, TerminalOutcome } from '../domain/execution-status.js';
import type { Logger } from '../util/logger.js';

export interface TerminalEvent {
  executionId: string;
  agent: string;
  outcome: TerminalOutcome;
  actor: Actor;
  reason?: string;
}

/**
 * What happens after the terminal write: one log line per execution, and an alert for the
 * endings an operator should look at. Best effort: it never changes the outcome.
 */
export async function announceFinished(event: TerminalEvent, alerter: Alerter, log: Logger): Promise<void> {
  const { executionId, agent, outcome, actor } = event;
  const alarming = outcome.status === 'failed' || outcome.status === 'timed_out';
  log[alarming ? 'warn' : 'info']({ executionId, agent, ...outcome, actor }, 'execution finished');
  if (!alarming) return;
  await alerter.send({
    kind: `execution_${outcome.status}`,
    summary: `${agent} execution ${executionId} ${outcome.status.replace('_', ' ')}: ${outcome.error ?? outcome.errorKind}`,
    executionId,
    agent,
    details: { errorKind: outcome.errorKind, error: outcome.error, exitCode: outcome.exitCode, actor },
  });
}
