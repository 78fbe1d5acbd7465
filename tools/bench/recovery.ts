import { randomBytes } from 'node:crypto';
import { startAgentServer } from '../../src/agent-server/agent-server.js';
import { demoAgentConfig } from '../../src/agent-server/demo-agents.js';
import { literalToken } from '../../src/domain/token-reference.js';
import { LifelineClient } from '../../src/client/lifeline-client.js';
import { createAgentStore } from '../../src/store/agent-store.js';
import { reconcilerScheduleId } from '../../src/temporal/reconciler-schedule.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { benchWorkerEnv, type BenchStack } from './bench-stack.js';
import { progress } from './progress.js';
import { median } from './stats.js';
import { startWorkerChild, type WorkerChild } from './worker-process.js';

export interface RecoveryRun {
  /** SIGKILL of the worker → the new worker's "re-attached" log line. */
  recoverySeconds: number;
  /** SIGKILL → the new worker's "worker started" (how long the replacement itself took to come up). */
  replacementReadySeconds: number;
  finalStatus: string;
}

export interface RecoveryResult {
  heartbeatTimeoutSeconds: number;
  runs: RecoveryRun[];
  medianSeconds: number;
}

const agentName = 'bench-demo';

/**
 * A worker child process dies (SIGKILL) while an execution runs on the reference agent; a fresh
 * worker is started at once. Measures the time until the new worker re-attaches to the same agent
 * process. The kill comes right after the run's heartbeat reached the server, the worst moment:
 * the server then waits a whole heartbeat timeout before it gives the run to another worker.
 */
export async function benchRecovery(bs: BenchStack, heartbeatTimeoutSeconds: number, repeats: number): Promise<RecoveryResult> {
  const token = randomBytes(16).toString('hex');
  const agentServer = await startAgentServer({ agents: { [agentName]: demoAgentConfig(token, { stopGraceMs: 2000 }) } }, bs.log);
  await createAgentStore(bs.pool).upsert({
    name: agentName,
    baseUrl: agentServer.baseUrlFor(agentName),
    token: literalToken(token),
    capacity: 10,
    defaultTimeoutSeconds: null,
  });
  const taskQueue = `bench-recovery-${heartbeatTimeoutSeconds}s`;
  const client = new LifelineClient({ temporal: bs.temporal, pool: bs.pool, taskQueue });
  let workers = 0;
  const startWorker = () =>
    startWorkerChild(
      benchWorkerEnv(bs, taskQueue, {
        LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: String(heartbeatTimeoutSeconds),
        LIFELINE_WORKER_IDENTITY: `bench-worker-${++workers}`,
      }),
    );

  let worker: WorkerChild | undefined;
  const runs: RecoveryRun[] = [];
  try {
    worker = await startWorker();
    for (let i = 0; i < repeats; i++) {
      const { executionId } = await client.startExecution({
        agent: agentName,
        prompt: 'succeed 30 recovered',
      });
      await waitUntil(async () => hasRecordedHeartbeat(bs, executionId), {
        what: `the first heartbeat of ${executionId}`,
        timeoutMs: 60_000,
        intervalMs: 20,
      });
      const killedAt = await worker.kill('SIGKILL');
      worker = await startWorker();
      const readyAt = await worker.logged('worker started');
      const reattachedAt = await worker.logged('re-attached to the running agent execution', { executionId }, 5 * 60_000);
      // Not part of the figure: a stop makes the next round start on an idle worker without waiting out the run.
      await client.stopExecution(executionId, 'benchmark round over');
      const row = await client.waitForExecution(executionId, 120_000);
      runs.push({
        recoverySeconds: (reattachedAt - killedAt) / 1000,
        replacementReadySeconds: (readyAt - killedAt) / 1000,
        finalStatus: row.status,
      });
      progress(`recovery (heartbeat ${heartbeatTimeoutSeconds} s) ${i + 1}/${repeats}: ${runs.at(-1)!.recoverySeconds.toFixed(2)} s`);
    }
  } finally {
    await worker?.kill('SIGTERM');
    await bs.temporal.schedule
      .getHandle(reconcilerScheduleId(taskQueue))
      .delete()
      .catch(() => undefined);
    await agentServer.close();
  }
  return { heartbeatTimeoutSeconds, runs, medianSeconds: median(runs.map((r) => r.recoverySeconds)) };
}

async function hasRecordedHeartbeat(bs: BenchStack, executionId: string): Promise<boolean> {
  const { raw } = await bs.temporal.workflow.getHandle(executionId).describe();
  return (raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'runAgent' && a.lastHeartbeatTime);
}
