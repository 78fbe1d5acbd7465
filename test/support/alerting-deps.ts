import type { Alert } from '../../src/alerts/webhook.js';
import { buildLifelineDeps, type DepsConfig } from '../../src/deps/build-lifeline-deps.js';
import type { LifelineDeps } from '../../src/deps/lifeline-deps.js';
import type { Harness } from './lifeline-harness.js';

/** A harness's dependencies (or built from another configuration) with an alerter that records every alert, and metrics of their own. */
export function alertingDeps(h: Harness, config: DepsConfig = h.depsConfig): { deps: LifelineDeps; alerts: Alert[] } {
  const alerts: Alert[] = [];
  const deps = buildLifelineDeps({
    pool: h.pool,
    redis: h.redis,
    workflows: h.temporal.workflow,
    config,
    log: h.log,
    alerter: { send: async (alert) => alerts.push(alert) > 0 },
  });
  return { deps, alerts };
}
