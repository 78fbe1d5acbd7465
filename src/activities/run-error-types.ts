import type { ErrorKind } from '../domain/execution-status.js';

/** Failure types of the run activity that no retry can fix; the workflow maps each to an error kind. */
export const nonRetryableRunErrors: ErrorKind[] = [
  'agent_lost_execution',
  'agent_unreachable',
  'agent_protocol_error',
  'agent_rejected',
  'invalid_input',
];
