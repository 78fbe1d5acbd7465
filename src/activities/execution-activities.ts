import type { ExecutionActivities } from '../contract/execution-activities.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { createAdmissionActivities } from './admission-activities.js';
import { createConclusionActivities } from './conclusion-activities.js';
import { createRunActivities } from './run-activities.js';
import { createSlotActivities } from './slot-activities.js';

/** The activities of one execution, from admission to conclusion: what the execution workflow calls. */
export function createExecutionActivities(deps: LifelineDeps): ExecutionActivities {
  return {
    ...createAdmissionActivities(deps),
    ...createConclusionActivities(deps),
    ...createSlotActivities(deps),
    ...createRunActivities(deps),
  };
}
