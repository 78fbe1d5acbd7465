import proto from '@temporalio/proto';
import { isTerminal } from '../../src/domain/execution-status.js';
import { listStuckExecutions } from '../../src/reconciler/stuck-executions.js';
import { type StuckExecution } from '../../src/contract/reconcile-report.js';
import { forEachConcurrently } from '../../src/util/for-each-concurrently.js';
import type { ExecutionSummary, TransitionRecord } from '../../src/store/execution-reader.js';
import { agentExecution } from '../../src/workflows/agent-execution.js';
import { probePid, processCommandLine } from '../processes/process-probe.js';
import type { AgentRun } from './agent-ledger.js';
import type { ChaosEnvironment } from './chaos-environment.js';
import type { FaultEvent } from './fault-injector.js';
import type { ProcessSamples } from './process-sampler.js';
import type { PlannedExecution, Submission } from './workload.js';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

export interface SlotEntry {
  agent: string;
  executionId: string;
}

export interface AliveProcess {
  pid: number;
  executionId: string;
  commandLine: string;
}

/** Everything the invariants are checked against, read once the run has settled (or its deadline passed). */
export interface RunFacts {
  agents: string[];
  plan: PlannedExecution[];
  submissions: Submission[];
  faults: FaultEvent[];
  rows: Map<string, ExecutionSummary>;
  transitions: Map<string, TransitionRecord[]>;
  openWorkflows: string[];
  leases: SlotEntry[];
  waiters: SlotEntry[];
  agentRunning: SlotEntry[];
  aliveProcesses: AliveProcess[];
  agentRuns: AgentRun[];
  spawnCounts: Map<string, number>;
  /** Every failed workflow task in the executions' histories (a nondeterminism error after a code change, say). */
  workflowTaskFailures: { executionId: string; cause: string }[];
  /** The run's executions that `lifeline executions problems` lists at the end. */
  stuck: StuckExecution[];
  /** Each agent's and tenant's live processes, counted every 250 ms while the run went on. */
  processes: ProcessSamples[];
  /** Places still taken among the run's tenants' holds across agents (slots/tenant-holds.ts). */
  tenantHolds: { tenant: string; executionId: string }[];
}

/** Every row of the run's private database, by id. */
export async function readRows(env: ChaosEnvironment): Promise<Map<string, ExecutionSummary>> {
  const rows = await env.executions.list({ limit: 1_000_000 });
  return new Map(rows.map((r) => [r.id, r]));
}

export async function readOpenWorkflows(env: ChaosEnvironment): Promise<string[]> {
  const open: string[] = [];
  const query = `TaskQueue = "${env.taskQueue}" AND WorkflowType = "${agentExecution.name}" AND ExecutionStatus = "Running"`;
  for await (const wf of env.temporal.workflow.list({ query })) open.push(wf.workflowId);
  return open;
}

export async function readSlots(env: ChaosEnvironment): Promise<{ leases: SlotEntry[]; waiters: SlotEntry[] }> {
  const perAgent = await Promise.all(
    env.agentServer.agents.map(async ({ name }) => {
      const [leases, waiting] = await Promise.all([env.slots.leases(name), env.slots.waiting(name)]);
      return {
        leases: leases.map((l) => ({ agent: name, executionId: l.executionId })),
        waiters: waiting.map((executionId) => ({ agent: name, executionId })),
      };
    }),
  );
  return { leases: perAgent.flatMap((a) => a.leases), waiters: perAgent.flatMap((a) => a.waiters) };
}

/**
 * Demo-command processes the agent server ever reported that still run. The command line is
 * checked too, so that a pid reused by an unrelated process is not taken for a leftover.
 */
export function aliveAgentProcesses(runs: AgentRun[]): AliveProcess[] {
  const alive: AliveProcess[] = [];
  for (const run of runs) {
    if (run.pid === undefined || probePid(run.pid) !== 'alive') continue;
    const commandLine = processCommandLine(run.pid);
    if (commandLine?.includes('demo-command')) alive.push({ pid: run.pid, executionId: run.executionId, commandLine });
  }
  return alive;
}

/** The failed workflow tasks of each execution's history, with their cause and first line. */
async function readWorkflowTaskFailures(env: ChaosEnvironment, plan: PlannedExecution[]): Promise<RunFacts['workflowTaskFailures']> {
  const failures: RunFacts['workflowTaskFailures'] = [];
  await forEachConcurrently(plan, 8, async ({ executionId }) => {
    const history = await env.temporal.workflow
      .getHandle(executionId)
      .fetchHistory()
      .catch(() => undefined);
    for (const event of history?.events ?? []) {
      const failed = event.workflowTaskFailedEventAttributes;
      if (!failed) continue;
      const cause = WorkflowTaskFailedCause[failed.cause ?? 0] ?? String(failed.cause);
      failures.push({ executionId, cause: `${cause}: ${failed.failure?.message?.split('\n')[0] ?? ''}` });
    }
  });
  return failures;
}

export async function collectFacts(
  env: ChaosEnvironment,
  run: { plan: PlannedExecution[]; submissions: Submission[]; faults: FaultEvent[]; processes: ProcessSamples[]; tenants: string[] },
): Promise<RunFacts> {
  const { tenants, ...facts } = run;
  const tenantHolds = (
    await Promise.all(
      tenants.map(async (tenant) => (await env.slots.tenantHolds.holders(tenant)).map((h) => ({ tenant, executionId: h.executionId }))),
    )
  ).flat();
  await env.agentServer.snapshotSpawns();
  const rows = await readRows(env);
  const transitions = new Map<string, TransitionRecord[]>();
  for (const { executionId } of run.plan) transitions.set(executionId, await env.executions.transitions(executionId));
  const agentRuns = env.ledger.all();
  return {
    ...facts,
    tenantHolds,
    agents: env.agentServer.agents.map((a) => a.name),
    rows,
    transitions,
    openWorkflows: await readOpenWorkflows(env),
    ...(await readSlots(env)),
    agentRunning: await env.agentServer.running(),
    aliveProcesses: aliveAgentProcesses(agentRuns),
    agentRuns,
    spawnCounts: env.ledger.spawnCounts(),
    workflowTaskFailures: await readWorkflowTaskFailures(env, run.plan),
    stuck: (await listStuckExecutions(env.stuckSources)).stuck.filter((s) => run.plan.some((p) => p.executionId === s.executionId)),
  };
}

/** What is still going on, in words; empty once the run has settled. */
export async function unsettledWork(env: ChaosEnvironment, plan: PlannedExecution[]): Promise<string[]> {
  const rows = await readRows(env);
  const live = plan.filter((p) => {
    const row = rows.get(p.executionId);
    return !row || !isTerminal(row.status);
  }).length;
  const [open, slots, running] = await Promise.all([readOpenWorkflows(env), readSlots(env), env.agentServer.running()]);
  const processes = aliveAgentProcesses(env.ledger.all()).length;
  const pending: [number, string][] = [
    [live, 'rows not terminal'],
    [open.length, 'workflows open'],
    [slots.leases.length, 'leases held'],
    [slots.waiters.length, 'queue waiters'],
    [running.length, 'agent runs running'],
    [processes, 'agent processes alive'],
  ];
  return pending.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
}
