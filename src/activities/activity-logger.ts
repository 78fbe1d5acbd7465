import { Context } from '@temporalio/activity';
import type { Logger } from '../util/logger.js';

/** The deps logger with the execution's identifiers, so every line can be found by any of them. */
export function activityLogger(log: Logger, fields: { executionId: string; agent?: string }): Logger {
  const info = Context.current().info;
  return log.child({
    ...fields,
    workflowId: info.workflowExecution?.workflowId,
    activity: info.activityType,
    attempt: info.attempt,
  });
}
