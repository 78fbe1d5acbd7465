import { isTerminal } from '../../src/domain/execution-status.js';
import {
  describeFaults,
  describeOutcome,
  expectedOutcomes,
  faultOutcomes,
  faultsTouching,
  sameOutcome,
  type Outcome,
} from './expected-outcomes.js';
import type { RunFacts } from './run-facts.js';

export interface Violation {
  executionId?: string;
  detail: string;
}

export interface InvariantResult {
  name: string;
  /** How many things were checked: executions, agents (their leases, queues, runs), processes. */
  checked: number;
  violations: Violation[];
}

/** The row's terminal outcome, with the actor its audit log records for it. */
function terminalOutcome(facts: RunFacts, executionId: string): Outcome | undefined {
  const row = facts.rows.get(executionId);
  if (!row || !isTerminal(row.status)) return undefined;
  const terminal = (facts.transitions.get(executionId) ?? []).find((t) => t.toStatus === row.status);
  return terminal && { status: row.status, errorKind: row.errorKind, actor: terminal.actor };
}

/**
 * Workflow task failures that are Temporal's own doing and retried at once: new events (a signal,
 * a cancel) arrived while the task ran, or the workflow was terminated under it. Any other cause
 * (nondeterminism, a bug that throws) is a workflow that cannot make progress.
 */
const temporalsOwnRetries = [
  'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND',
  'WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND',
  'WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE',
];

/** The last fault injected before `at`, in words, with how long before. */
function faultBefore(facts: RunFacts, at: number): string {
  const before = facts.faults.filter((f) => f.error === undefined && f.at <= at).sort((a, b) => b.at - a.at)[0];
  if (!before) return 'no fault before it';
  return `after ${before.kind} (${[before.target, before.detail].filter(Boolean).join(' ')}) ${((at - before.at) / 1000).toFixed(1)} s earlier`;
}

/** Each stretch of samples where an agent, or a tenant, ran more processes than its capacity or limit. */
function overLimit(facts: RunFacts, kind: 'agent' | 'tenant'): Violation[] {
  return facts.processes
    .filter((g) => g.kind === kind)
    .flatMap((a) =>
      a.overLimit.map((o) => ({
        detail:
          `${a.name}: ${o.most} processes alive, limit ${a.limit}, in ${o.samples} sample(s) from ` +
          `${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()} (${o.executionIds.join(', ')}); ${faultBefore(facts, o.from)}`,
      })),
    );
}

/** Every invariant of a chaos run, each with what it checked and what broke it. */
export function checkInvariants(facts: RunFacts): InvariantResult[] {
  const failedToSubmit = new Set(facts.submissions.filter((s) => s.error).map((s) => s.executionId));
  const submitted = facts.plan.filter((p) => !failedToSubmit.has(p.executionId));
  const succeededOnAgent = submitted.filter((p) =>
    facts.agentRuns.some((r) => r.executionId === p.executionId && r.status === 'succeeded'),
  );
  const forEach = <T>(items: T[], check: (item: T) => Violation | undefined) => items.flatMap((item) => check(item) ?? []);
  const unexpected: Violation[] = forEach(submitted, (planned) => {
    const row = facts.rows.get(planned.executionId);
    const ended = terminalOutcome(facts, planned.executionId);
    if (!row || !ended) return undefined; // reported by the terminal-row invariants
    const touching = faultsTouching(row, facts.faults);
    const expected = expectedOutcomes(planned, row, touching);
    if (expected.some((o) => sameOutcome(o, ended))) return undefined;
    return {
      executionId: planned.executionId,
      detail:
        `${planned.behaviour} (${planned.busyPolicy}, timeout ${planned.timeoutSeconds} s; ${describeFaults(touching).join(', ') || 'no fault'}) ` +
        `ended ${describeOutcome(ended)}: ${row.error ?? ''}; expected one of ${expected.map(describeOutcome).join(' | ')}`,
    };
  });
  // Deploys and Temporal restarts excuse no ending: whatever they touched must end as if they had not happened.
  const deployed = (executionId: string) => {
    const row = facts.rows.get(executionId);
    const touching = row && faultsTouching(row, facts.faults);
    return touching !== undefined && (touching.deploysWhileLive > 0 || touching.temporalRestartedWhileLive);
  };

  return [
    {
      name: 'every execution submitted',
      checked: facts.submissions.length,
      violations: forEach(facts.submissions, (s) =>
        s.error ? { executionId: s.executionId, detail: `start failed after ${s.attempts} attempts: ${s.error}` } : undefined,
      ),
    },
    {
      name: 'every row terminal',
      checked: submitted.length,
      violations: forEach(submitted, ({ executionId }) => {
        const row = facts.rows.get(executionId);
        if (!row) return { executionId, detail: 'no row' };
        return isTerminal(row.status) ? undefined : { executionId, detail: `still ${row.status}` };
      }),
    },
    {
      name: 'exactly one terminal transition',
      checked: submitted.length,
      violations: forEach(submitted, ({ executionId }) => {
        const row = facts.rows.get(executionId);
        const terminal = (facts.transitions.get(executionId) ?? []).filter((t) => isTerminal(t.toStatus));
        if (terminal.length === 1 && terminal[0]!.toStatus === row?.status) return undefined;
        const steps = terminal.map((t) => `${t.fromStatus}>${t.toStatus} by ${t.actor}`).join(', ') || 'none';
        return { executionId, detail: `row ${row?.status ?? 'missing'}, terminal transitions: ${steps}` };
      }),
    },
    {
      name: 'every workflow closed',
      checked: submitted.length,
      violations: facts.openWorkflows.map((executionId) => ({ executionId, detail: 'workflow still running' })),
    },
    {
      name: 'no capacity lease left',
      checked: facts.agents.length,
      violations: facts.leases.map((l) => ({ executionId: l.executionId, detail: `lease held on ${l.agent}` })),
    },
    {
      name: 'no queue waiter left',
      checked: facts.agents.length,
      violations: facts.waiters.map((w) => ({ executionId: w.executionId, detail: `waiting in the queue of ${w.agent}` })),
    },
    {
      name: 'agent reports nothing running',
      checked: facts.agents.length,
      violations: facts.agentRunning.map((r) => ({ executionId: r.executionId, detail: `${r.agent} reports it running` })),
    },
    {
      name: 'no agent process alive',
      checked: facts.agentRuns.filter((r) => r.pid !== undefined).length,
      violations: facts.aliveProcesses.map((p) => ({ executionId: p.executionId, detail: `pid ${p.pid} alive: ${p.commandLine}` })),
    },
    {
      name: 'agent processes <= capacity at every sample',
      checked: facts.processes.filter((g) => g.kind === 'agent').reduce((n, a) => n + a.samples, 0),
      violations: overLimit(facts, 'agent'),
    },
    {
      name: "tenant processes <= the tenant's limits at every sample",
      checked: facts.processes.filter((g) => g.kind === 'tenant').reduce((n, a) => n + a.samples, 0),
      violations: overLimit(facts, 'tenant'),
    },
    {
      name: 'no tenant hold left',
      checked: new Set(facts.plan.map((p) => p.tenant)).size,
      violations: facts.tenantHolds.map((h) => ({ executionId: h.executionId, detail: `a place among the holds of tenant ${h.tenant}` })),
    },
    {
      name: 'agent run started at most once',
      checked: facts.spawnCounts.size,
      violations: forEach([...facts.spawnCounts], ([executionId, n]) =>
        n > 1 ? { executionId, detail: `agent process started ${n} times` } : undefined,
      ),
    },
    {
      name: 'no false failure',
      checked: succeededOnAgent.length,
      violations: forEach(succeededOnAgent, ({ executionId }) => {
        const row = facts.rows.get(executionId);
        const ended = terminalOutcome(facts, executionId);
        if (!row || !ended || ended.status === 'succeeded') return undefined;
        if (faultOutcomes(faultsTouching(row, facts.faults)).some((o) => sameOutcome(o, ended))) return undefined;
        return { executionId, detail: `the agent run succeeded but the row is ${describeOutcome(ended)}` };
      }),
    },
    {
      name: 'no workflow task failed',
      checked: submitted.length,
      violations: facts.workflowTaskFailures
        .filter((f) => !temporalsOwnRetries.some((cause) => f.cause.startsWith(cause)))
        .map((f) => ({ executionId: f.executionId, detail: f.cause })),
    },
    {
      name: 'no execution listed by problems',
      checked: submitted.length,
      violations: facts.stuck.map((s) => ({ executionId: s.executionId, detail: `${s.reason}: ${s.cause}` })),
    },
    {
      name: 'no execution ended by a deploy or a Temporal restart',
      checked: submitted.filter((p) => deployed(p.executionId)).length,
      violations: unexpected.filter((v) => deployed(v.executionId!)),
    },
    {
      name: 'outcome expected for behaviour and faults',
      checked: submitted.length,
      violations: unexpected,
    },
  ];
}
