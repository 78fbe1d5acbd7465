import type { Logger } from '../util/logger.js';
import type { Actor, TerminalOutcome } from '../domain/execution-status.js';

export interface TerminalEvent {
  executionId: string;
  agent: string;
  outcome: TerminalOutcome;
  actor: Actor;
  reason?: string;
}

/** Where terminal events go after the row is written. Best effort: a failure never changes the outcome. */
export interface Notifier {
  notify(event: TerminalEvent): Promise<void>;
}

/** The default notifier: one structured log line per finished execution. */
export function logNotifier(log: Logger): Notifier {
  return {
    async notify(event) {
      const level = event.outcome.status === 'succeeded' || event.outcome.status === 'skipped' ? 'info' : 'warn';
      log[level]({ executionId: event.executionId, agent: event.agent, ...event.outcome, actor: event.actor }, 'execution finished');
    },
  };
}
