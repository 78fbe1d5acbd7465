import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { createExecutionActivities } from './execution-activities.js';
import { createReconcileActivities } from './reconcile-activities.js';

/** All of Lifeline's activities, built from their dependencies: what a worker registers. */
export function createActivities(deps: LifelineDeps) {
  return { ...createExecutionActivities(deps), ...createReconcileActivities(deps) };
}
