import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Logger } from '../util/logger.js';
import { setTimeout as delay } from 'node:timers/promises';
import { waitUntil } from '../util/wait-until.js';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { WorkerDeploymentVersionStatus } = proto.temporal.api.enums.v1;

/** One build of the Worker Deployment, as an operator rolling out needs to see it. */
export interface BuildStatus {
  buildId: string;
  /** current (new executions start here), ramping, draining (pinned executions still open), drained (safe to stop its workers), inactive. */
  status: string;
  rampingPercent?: number;
  createdAt?: Date;
}

const statusName = (status: number | null | undefined): string =>
  (WorkerDeploymentVersionStatus[status ?? 0] ?? 'unspecified').replace('WORKER_DEPLOYMENT_VERSION_STATUS_', '').toLowerCase();

const timestamp = (t: { seconds?: unknown } | null | undefined) =>
  t?.seconds !== undefined && t.seconds !== null ? new Date(Number(t.seconds) * 1000) : undefined;

/** What the deployment calls need of a Temporal client (a Client or its WorkflowClient). */
type DeploymentService = { workflowService: Client['workflowService']; options: { namespace: string } };

/** Every build of the deployment with its status, newest first; empty when no versioned worker ever polled. */
export async function deploymentBuilds(client: DeploymentService, deploymentName: string): Promise<BuildStatus[]> {
  let info;
  try {
    ({ workerDeploymentInfo: info } = await client.workflowService.describeWorkerDeployment({
      namespace: client.options.namespace,
      deploymentName,
    }));
  } catch (err) {
    if ((err as { code?: number }).code === grpcNotFound) return [];
    throw err;
  }
  const ramping = info?.routingConfig?.rampingDeploymentVersion?.buildId;
  return (info?.versionSummaries ?? [])
    .map((v) => ({
      buildId: v.deploymentVersion?.buildId ?? v.version ?? '',
      status: statusName(v.status),
      rampingPercent: v.deploymentVersion?.buildId === ramping ? (info?.routingConfig?.rampingVersionPercentage ?? undefined) : undefined,
      createdAt: timestamp(v.createTime),
    }))
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}

/** gRPC's status code NOT_FOUND. */
const grpcNotFound = 5;

/** gRPC's status code FAILED_PRECONDITION. */
const grpcFailedPrecondition = 9;

/**
 * A build registers each of its task queues (workflow, activity) as its workers first poll them, one
 * after the other; Temporal refuses to route to a build that lacks a queue the current one has.
 * Moments after the workers started that is only a matter of time: the change is tried again for a
 * while, and then the refusal is reported as Temporal words it.
 */
async function onceTaskQueuesRegistered(change: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await change();
      return;
    } catch (err) {
      const { code, message } = err as { code?: number; message?: string };
      if (code !== grpcFailedPrecondition || !message?.includes('missing active task queues') || Date.now() > deadline) throw err;
      await delay(500);
    }
  }
}

/** New executions start on this build from now on; executions pinned to others stay where they are. */
export async function setCurrentBuild(client: Client, deploymentName: string, buildId: string, identity: string): Promise<void> {
  await onceTaskQueuesRegistered(() =>
    client.workflowService.setWorkerDeploymentCurrentVersion({
      namespace: client.options.namespace,
      deploymentName,
      buildId,
      identity,
    }),
  );
}

/** Sends this share (0 to 100) of new executions to the build, the rest to the current one. */
export async function rampBuild(
  client: Client,
  deploymentName: string,
  buildId: string,
  percentage: number,
  identity: string,
): Promise<void> {
  await onceTaskQueuesRegistered(() =>
    client.workflowService.setWorkerDeploymentRampingVersion({
      namespace: client.options.namespace,
      deploymentName,
      buildId,
      percentage,
      identity,
    }),
  );
}

/**
 * The first build of a deployment becomes current by itself, so that a fresh installation runs;
 * a later build waits for the operator (`lifeline deploy set-current`), which is the rollout.
 * Waits for the server to register this worker's build (it does when the worker first polls).
 */
export async function makeCurrentIfFirst(client: Client, deploymentName: string, buildId: string, log: Logger): Promise<void> {
  const builds = await waitUntil(
    async () => {
      const found = await deploymentBuilds(client, deploymentName);
      return found.some((b) => b.buildId === buildId) && found;
    },
    { what: `build ${buildId} of deployment ${deploymentName} to register with Temporal`, timeoutMs: 60_000, intervalMs: 250 },
  );
  const current = builds.find((b) => b.status === 'current');
  if (!current) {
    await setCurrentBuild(client, deploymentName, buildId, 'lifeline-worker');
    log.info({ deploymentName, buildId }, 'first build of the deployment: made current');
  } else if (current.buildId !== buildId) {
    log.info(
      { deploymentName, buildId, currentBuildId: current.buildId },
      `this worker's build is not current: new executions start on ${current.buildId} until \`lifeline deploy set-current ${buildId}\``,
    );
  }
}
