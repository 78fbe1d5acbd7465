import type { ActivityDeps } from './activity-deps.js';
import { createAdmissionActivities } from './admission-activities.js';
import { createConclusionActivities } from './conclusion-activities.js';
import { createReconcileActivities } from './reconcile-activities.js';
import { createRunActivities } from './run-activities.js';
import { createSlotActivities } from './slot-activities.js';

export type { ActivityDeps } from './activity-deps.js';

/** All of Lifeline's activities, built from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAdmissionActivities(deps),
    ...createConclusionActivities(deps),
    ...createSlotActivities(deps),
    ...createRunActivities(deps),
    ...createReconcileActivities(deps),
  };
}

export type LifelineActivities = ReturnType<typeof createActivities>;
