import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExecutionLiveState } from '../domain/execution-types.js';

/** The live state of an execution, for operators and the CLI. */
export const stateQuery = defineQuery<ExecutionLiveState>('state');

/** Stops an execution with an operator's reason; the row ends `cancelled` with actor = operator. */
export const stopSignal = defineSignal<[{ reason: string }]>('stop');
