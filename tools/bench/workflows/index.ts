import { condition, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { benchActivities } from '../bench-activities.js';
import type { handWrittenActivities } from '../hand-written-run.js';

const { noop } = proxyActivities<typeof benchActivities>({ startToCloseTimeout: '30 seconds' });
const local = proxyLocalActivities<typeof benchActivities>({ startToCloseTimeout: '30 seconds' });
const { runByHand } = proxyActivities<ReturnType<typeof handWrittenActivities>>({ startToCloseTimeout: '30 seconds' });

export interface NoopSteps {
  activities: number;
  localActivities: number;
}

/**
 * The baselines of the lifecycle benchmark: what Temporal itself costs for a workflow of this many
 * no-op steps, one after another (local ones first). One activity is the bare workflow.
 */
export async function noopStepsWorkflow(steps: NoopSteps): Promise<void> {
  for (let i = 0; i < steps.localActivities; i++) await local.noop();
  for (let i = 0; i < steps.activities; i++) await noop();
}

/** An agent execution's least work, by hand in one activity (hand-written-run.ts). */
export async function handWrittenWorkflow(): Promise<void> {
  await runByHand();
}

/** Stays running until the stack goes away: the live executions whose rows the reconciler benchmark checks. */
export async function parkedWorkflow(): Promise<void> {
  await condition(() => false);
}
