import type { Client } from '@temporalio/client';
import { loadWorkflowCode } from '../../src/temporal/workflow-code.js';
import { deploymentBuilds, setCurrentBuild } from '../../src/temporal-api/worker-deployment.js';
import { waitUntil } from '../../src/util/wait-until.js';
import type { WorkerPool } from './worker-pool.js';

/** What a rollout of changed workflow code needs: the pool, Temporal, the deployment and the two bundles. */
export interface RolloutTargets {
  workers: WorkerPool;
  temporal: Client;
  deploymentName: string;
  releasedBundle: string;
  changedBundle: string;
}

/** The longest an old build may take to drain: its longest execution (timeouts and queue waits) and the server's drainage delay. */
const drainTimeoutMs = 300_000;

/**
 * A code change rolled out as docs/operations.md says (Rollouts with Worker Versioning): workers of the new build start beside the old
 * ones, the new build becomes current, the old build's executions finish where they started,
 * and its workers stop once Temporal reports it drained.
 */
export async function rollOutChangedCode(targets: RolloutTargets): Promise<{ target: string; detail: string; recoveredAt: number }> {
  const { workers, temporal, deploymentName } = targets;
  const [released, changed] = await Promise.all([
    loadWorkflowCode({ bundlePath: targets.releasedBundle }),
    loadWorkflowCode({ bundlePath: targets.changedBundle }),
  ]);
  const oldWorkers = workers.identities(targets.releasedBundle);
  await workers.start(oldWorkers.length, { LIFELINE_WORKFLOW_BUNDLE: targets.changedBundle });
  await waitUntil(async () => (await deploymentBuilds(temporal, deploymentName)).some((b) => b.buildId === changed.derivedBuildId), {
    what: `build ${changed.derivedBuildId} to register`,
    timeoutMs: 60_000,
  });
  await setCurrentBuild(temporal, deploymentName, changed.derivedBuildId, 'lifeline-chaos');
  const currentAt = Date.now();
  await waitUntil(
    async () => (await deploymentBuilds(temporal, deploymentName)).find((b) => b.buildId === released.derivedBuildId)?.status === 'drained',
    { what: `build ${released.derivedBuildId} to drain`, timeoutMs: drainTimeoutMs, intervalMs: 1000 },
  );
  const drainedMs = Date.now() - currentAt;
  const stopping = workers.identities(targets.releasedBundle);
  await workers.stopGracefully(stopping);
  return {
    target: `${released.derivedBuildId} > ${changed.derivedBuildId}`,
    detail: `drained ${(drainedMs / 1000).toFixed(0)} s after the switch; ${stopping.length} old workers stopped`,
    recoveredAt: Date.now(),
  };
}
