import type { ActivityDeps } from './activity-deps.js';
import { createReconcileActivities } from './reconcile-activities.js';
import { createRecordActivities } from './record-activities.js';
import { createRunActivities } from './run-activities.js';
import { createSlotActivities } from './slot-activities.js';

export type { ActivityDeps } from './activity-deps.js';

/** All of Lifeline's activities, built from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordActivities(deps),
    ...createSlotActivities(deps),
    ...createRunActivities(deps),
    ...createReconcileActivities(deps),
  };
}

export type LifelineActivities = ReturnType<typeof createActivities>;
