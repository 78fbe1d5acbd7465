import type { Alert, Alerter } from '../../src/alerts/webhook.js';
import { buildLifelineDeps, type DepsConfig } from '../../src/wiring/build-lifeline-deps.js';
import type { LifelineDeps } from '../../src/deps/lifeline-deps.js';
import type { Harness } from './lifeline-harness.js';

/** An alerter that keeps every alert it is given in `alerts`, and reports each as sent. */
export function recordingAlerter(): { alerter: Alerter; alerts: Alert[] } {
  const alerts: Alert[] = [];
  return { alerter: { send: async (alert) => alerts.push(alert) > 0 }, alerts };
}

/** A harness's dependencies (or built from another configuration) with an alerter that records every alert, and metrics of their own. */
export function alertingDeps(h: Harness, config: DepsConfig = h.depsConfig): { deps: LifelineDeps; alerts: Alert[] } {
  const { alerter, alerts } = recordingAlerter();
  const deps = buildLifelineDeps({ pool: h.pool, redis: h.redis, workflows: h.temporal.workflow, config, log: h.log, alerter });
  return { deps, alerts };
}
