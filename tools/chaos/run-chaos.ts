import { randomBytes } from 'node:crypto';
import type { ExecutionStatus } from '../../src/domain/execution-status.js';
import { startChaosEnvironment, type ChaosEnvironment } from './chaos-environment.js';
import { describeFaults, faultsTouching } from './expected-outcomes.js';
import { rollOutChangedCode } from './code-change-rollout.js';
import { injectFaults, planFaults, type FaultKind, type FaultTargets } from './fault-injector.js';
import { checkInvariants } from './invariants.js';
import { chaosOptions, type ChaosOptions } from './options.js';
import { ProcessSampler } from './process-sampler.js';
import { chaosTenants, processGroups } from './chaos-tenants.js';
import { seededRandom } from './random.js';
import { writeResultJson, type ChaosResult, type ExecutionReport } from './report.js';
import { collectFacts, type RunFacts } from './run-facts.js';
import { waitToSettle } from './settle.js';
import { planWorkload, submitWorkload } from './workload.js';

export interface ChaosRunOptions extends Partial<ChaosOptions> {
  /** Progress lines while the run goes on (default: none). */
  progress?: (line: string) => void;
  /** Aborting ends the run early; every process it started is stopped all the same. */
  signal?: AbortSignal;
}

function faultTargets(env: ChaosEnvironment): FaultTargets {
  const live = (status: ExecutionStatus) => env.executions.list({ status, limit: 100_000 });
  return {
    workers: env.workers,
    agentServer: env.agentServer,
    postgres: env.postgres,
    redis: env.redis,
    agents: env.agentServer.agents.map((a) => a.name),
    workflows: env.temporal.workflow,
    temporal: env.temporalServer,
    rollOut: () =>
      rollOutChangedCode({
        workers: env.workers,
        temporal: env.temporal,
        deploymentName: env.deploymentName,
        releasedBundle: env.bundles.released,
        changedBundle: env.bundles.changed,
      }),
    liveExecutions: async () => (await Promise.all([live('running'), live('queued')])).flat().map((r) => ({ id: r.id, status: r.status })),
  };
}

function executionReports(facts: RunFacts): ExecutionReport[] {
  return facts.plan.map((p) => {
    const row = facts.rows.get(p.executionId);
    const touching = row ? faultsTouching(row, facts.faults) : undefined;
    return {
      executionId: p.executionId,
      agent: p.agent,
      behaviour: p.behaviour,
      busyPolicy: p.busyPolicy,
      timeoutSeconds: p.timeoutSeconds,
      status: row?.status ?? 'missing',
      errorKind: row?.errorKind ?? null,
      agentRuns: facts.agentRuns.filter((r) => r.executionId === p.executionId).length,
      faults: touching ? describeFaults(touching) : [],
    };
  });
}

/**
 * One chaos run: a private stack, a seeded workload of mixed agent behaviours and busy policies,
 * faults injected while it runs, a bounded wait for everything to settle, then every invariant
 * checked. Whatever happens, every process it started is stopped; the logs stay when anything failed.
 */
export async function runChaos(given: ChaosRunOptions = {}): Promise<ChaosResult> {
  const { progress: emit = () => undefined, signal = new AbortController().signal, ...rest } = given;
  const options = chaosOptions(rest);
  const startedAt = Date.now();
  const progress = (line: string) => emit(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const random = seededRandom(options.seed);
  const runId = randomBytes(3).toString('hex');
  const reconcileGraceSeconds = random.int(0, 5);
  progress(`chaos run ${runId}, seed ${options.seed}`);
  const env = await startChaosEnvironment(options, { runId, reconcileGraceSeconds, progress });
  let result: ChaosResult | undefined;
  const tenants = chaosTenants(runId);
  const plan = planWorkload(random, {
    runId,
    executions: options.executions,
    agents: env.agentServer.agents.map((a) => a.name),
    tenants: tenants.map((t) => t.name),
    submitSeconds: options.submitSeconds,
  });
  const tenantOf = new Map(plan.map((p) => [p.executionId, p.tenant]));
  const sampler = new ProcessSampler(
    env.ledger,
    processGroups(env.agentServer.agents, tenants, (id) => tenantOf.get(id)),
  );
  try {
    for (const { name, settings } of tenants) await env.tenants.set(name, settings);
    const plannedFaults: Record<FaultKind, number> = {
      worker_kill: options.kills,
      rolling_deploy: options.rollingDeploys,
      code_change: options.codeChanges,
      temporal_restart: options.temporalRestarts,
      agent_server_restart: options.agentServerRestarts,
      redis_restart: options.redisRestarts,
      redis_failover: options.redisFailovers,
      redis_flush: options.redisFlushes,
      postgres_restart: options.postgresRestarts,
      cancel: options.cancels,
      terminate: options.terminations,
    };
    const faultPlan = planFaults(random, plannedFaults, options.submitSeconds * 1000);
    progress(`submitting ${plan.length} executions over ${options.submitSeconds} s with ${faultPlan.length} faults`);
    const workloadStart = Date.now();
    sampler.start();
    const [submissions, faults] = await Promise.all([
      submitWorkload(plan, env.client, { startedAt: workloadStart, signal }),
      injectFaults(faultPlan, faultTargets(env), { random, startedAt: workloadStart, signal, progress }),
    ]);
    const failedToSubmit = new Set(submissions.filter((s) => s.error).map((s) => s.executionId));
    progress(`all submitted (${failedToSubmit.size} failed); waiting up to ${options.deadlineSeconds} s to settle`);
    const settle = await waitToSettle(
      env,
      plan.filter((p) => !failedToSubmit.has(p.executionId)),
      { deadlineMs: options.deadlineSeconds * 1000, signal, progress },
    );
    progress(settle.settled ? 'settled; checking invariants' : `deadline passed with ${settle.unsettled.join(', ')}; checking invariants`);
    const processes = sampler.stop();
    const facts = await collectFacts(env, { plan, submissions, faults, processes, tenants: tenants.map((t) => t.name) });
    const invariants = checkInvariants(facts);
    const violations = invariants.reduce((n, i) => n + i.violations.length, 0);
    const keepLogs = options.keepLogs || violations > 0;
    result = {
      runId,
      seed: options.seed,
      options,
      reconcileGraceSeconds,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      settled: settle.settled,
      unsettled: settle.unsettled,
      plannedFaults,
      faults,
      invariants,
      violations,
      processes,
      executions: executionReports(facts),
      logDir: keepLogs ? env.dir : undefined,
    };
    if (options.jsonOut) writeResultJson(options.jsonOut, result);
    return result;
  } finally {
    sampler.stop();
    progress('stopping every process of the run');
    await env.stop(result === undefined || result.logDir !== undefined);
    if (result === undefined) progress(`logs kept in ${env.dir}`);
  }
}
