import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LifecycleResult, TemporalWork } from './lifecycle.js';
import type { ReconcilerResult } from './reconciler.js';
import type { RecoveryResult } from './recovery.js';
import type { SlotsResult } from './slots.js';
import type { Distribution } from './stats.js';

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: {
    cpus: number;
    node: string;
    platform: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  settings: Record<string, unknown>;
  lifecycle: LifecycleResult & { perKind: number; concurrency: number };
  recovery: RecoveryResult[];
  reconciler: ReconcilerResult;
  slots: SlotsResult;
  goals: Goal[];
}

export interface Goal {
  name: string;
  goal: string;
  met: boolean;
}

/** Two medians are "the same within noise" when they differ by under 2 ms or under 30 %. */
export function sameWithinNoise(a: number, b: number): boolean {
  return Math.abs(a - b) < 2 || Math.abs(a - b) < 0.3 * Math.min(a, b);
}

export function evaluateGoals(r: Omit<BenchResults, 'goals'>): Goal[] {
  const goals: Goal[] = [lifecycleGoal(r.lifecycle)];
  for (const rec of r.recovery) {
    const limit = rec.heartbeatTimeoutSeconds + 2;
    const within = rec.runs.filter((run) => run.recoverySeconds <= limit).length;
    goals.push({
      name: `dead-worker recovery, heartbeat ${rec.heartbeatTimeoutSeconds} s`,
      goal: `median <= ${limit} s (${within} of ${rec.runs.length} runs within)`,
      met: rec.medianSeconds <= limit,
    });
  }
  const [small, large] = [r.reconciler.points[0]!, r.reconciler.points.at(-1)!];
  goals.push(
    {
      name: '(a) reconcile cycle',
      goal: 'same for 10k and 1M terminal rows, < 50 ms',
      met: sameWithinNoise(small.cycleMs, large.cycleMs) && large.cycleMs < 50 && small.cycleMs < 50,
    },
    {
      name: '(b) live-row query',
      goal: 'same for 10k and 1M terminal rows, < 50 ms',
      met: sameWithinNoise(small.listLiveMs, large.listLiveMs) && large.listLiveMs < 50 && small.listLiveMs < 50,
    },
  );
  return goals;
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
const dist = (d: Distribution) => `p50 ${ms(d.p50)}  p95 ${ms(d.p95)}  p99 ${ms(d.p99)}  (n=${d.n})`;
const count = (n: number) => n.toLocaleString('en');
const work = (w: TemporalWork) =>
  `${w.workflowTasks} workflow + ${w.activityTasks} activity tasks, ${w.localActivities} local activities, ${w.historyEvents} events`;

/** CPU by part, the biggest first, and their sum. */
const cpuParts = (cpu: Record<string, number>) => {
  const parts = Object.entries(cpu).sort(([, a], [, b]) => b - a);
  const total = parts.reduce((sum, [, v]) => sum + v, 0);
  return `${ms(total)}: ${parts.map(([part, v]) => `${part} ${ms(v)}`).join(', ')}`;
};

export type LifecycleFigures = BenchResults['lifecycle'];

const kindsInTable = ['lifeline', 'bare', 'sameSteps', 'localSteps', 'handWritten'] as const;

/** The lifecycle benchmark's rows: throughput, why, Temporal's work and CPU per execution, latency. */
export function lifecycleRows(lc: LifecycleFigures): [string, string][] {
  return [
    ['1 throughput, lifeline (instant agent)', `${lc.perSecond.lifeline.toFixed(1)} executions/s`],
    ['1 throughput, bare: 1 no-op activity', `${lc.perSecond.bare.toFixed(1)} executions/s`],
    [
      '1 ratio lifeline / bare',
      `${lc.ratio.toFixed(2)}   (N=${lc.perKind} each, C=${lc.concurrency}, ${lc.rounds.length} rounds in turn; ${lc.notSucceeded} rows not succeeded)`,
    ],
    [
      `  why: ${lc.shapes.sameSteps.activities} no-op activities in a row`,
      `${lc.perSecond.sameSteps.toFixed(1)} executions/s (Lifeline's number of steps, without its work)`,
    ],
    [
      `  why: ${lc.shapes.localSteps.activities} activity + ${lc.shapes.localSteps.localActivities} local activities`,
      `${lc.perSecond.localSteps.toFixed(1)} executions/s (Lifeline's shape, without its work)`,
    ],
    [
      '  why: the least work, by hand',
      `${lc.perSecond.handWritten.toFixed(1)} executions/s (1 activity: 2 row writes, 2 Redis counts, the agent's call; lifeline/this ${(lc.perSecond.lifeline / lc.perSecond.handWritten).toFixed(2)})`,
    ],
    ...kindsInTable.map((k): [string, string] => [`  Temporal work per execution, ${k}`, work(lc.perExecution[k])]),
    ...kindsInTable.map((k): [string, string] => [`  CPU per execution, ${k}`, cpuParts(lc.cpuPerExecution[k])]),
    [`2 start -> agent called, C=${lc.concurrency}`, dist(lc.latency.loaded.startToAgentMs)],
    [`2 agent finished -> terminal row, C=${lc.concurrency}`, dist(lc.latency.loaded.agentToTerminalMs)],
    ['2 start -> agent called, C=1', dist(lc.latency.alone.startToAgentMs)],
    ['2 agent finished -> terminal row, C=1', dist(lc.latency.alone.agentToTerminalMs)],
  ];
}

/** Rows as a fixed-width table, goals last. */
export function renderRows(rows: [string, string][], goals: Goal[]): string[] {
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  const goalWidth = Math.max(...goals.map((g) => g.name.length)) + 2;
  return [
    ...rows.map(([name, value]) => `${name.padEnd(width)}${value}`),
    '',
    ...goals.map((g) => `goal: ${g.name.padEnd(goalWidth)}${g.goal.padEnd(46)}${g.met ? 'met' : 'NOT met'}`),
  ];
}

export function lifecycleGoal(lc: LifecycleFigures): Goal {
  return { name: 'lifecycle throughput ratio', goal: 'lifeline/bare >= 0.8', met: lc.ratio >= 0.8 };
}

/** The results as a fixed-width table, goals last. */
export function renderTable(r: BenchResults): string {
  const { lifecycle: lc, reconciler: rc, slots } = r;
  const rows: [string, string][] = [
    ...lifecycleRows(lc),
    ...r.recovery.map((rec): [string, string] => [
      `3 SIGKILL -> re-attached, heartbeat ${rec.heartbeatTimeoutSeconds} s`,
      `${rec.runs.map((run) => run.recoverySeconds.toFixed(2)).join(', ')} s; median ${rec.medianSeconds.toFixed(2)} s` +
        ` (replacement up after ${rec.runs.map((run) => run.replacementReadySeconds.toFixed(1)).join(', ')} s)`,
    ]),
    ...rc.points.flatMap((p): [string, string][] => [
      [
        `4a reconcile cycle, ${count(p.terminalRows)} terminal + ${count(p.liveRows)} live`,
        `${ms(p.cycleMs)} (median of ${rc.runs.cycle}; regular cycle, ${count(p.cycleDescribed)} describes)`,
      ],
      [
        `   full sweep, every ${rc.fullSweepSeconds} s`,
        `${ms(p.fullSweepMs)} (median of ${rc.runs.fullSweep}; ${count(p.fullSweepDescribed)} describes)`,
      ],
      [`4b listLive, ${count(p.terminalRows)} terminal + ${count(p.liveRows)} live`, `${ms(p.listLiveMs)} (median of ${rc.runs.listLive})`],
      [
        `4c a tenant's spend, ${count(p.terminalRows + p.liveRows)} rows of it`,
        `${ms(p.spendReadMs)} (median of ${rc.runs.listLive}; what each admission under a budget reads)`,
      ],
    ]),
    ['5 slot acquire+release pairs', `${Math.round(slots.slotPairsPerSecond).toLocaleString('en')} pairs/s (depth ${slots.depth})`],
    [
      '5 trivial EVALSHA pairs (baseline)',
      `${Math.round(slots.baselinePairsPerSecond).toLocaleString('en')} pairs/s (depth ${slots.depth})`,
    ],
    ['5 ratio slots / baseline', slots.ratio.toFixed(2)],
    [
      `5 crowded agent, ${count(slots.crowded.holders)} holders of ${slots.crowded.tenants} tenants`,
      `Redis µs per try: ${Math.round(slots.crowded.fullPollUs)} while full, ${Math.round(slots.crowded.freePollUs)} while a freed slot waits for its waiter; ` +
        `${Math.round(slots.crowded.releaseUs)} per release, ${Math.round(slots.crowded.admissionUs)} per admission`,
    ],
  ];
  return [
    `Lifeline benchmarks — ${r.startedAt}, ${r.machine.cpus} CPUs, node ${r.machine.node}, load average ${r.machine.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')} at start, ${r.machine.loadAverageAtEnd.map((l) => l.toFixed(1)).join(' ')} at end`,
    `settings: ${Object.entries(r.settings)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ')}`,
    '',
    ...renderRows(rows, r.goals),
  ].join('\n');
}

/** Writes a timestamped file and latest.json under tools/bench/results/; returns the timestamped path. */
export function writeResults(r: BenchResults): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const file = `${dir}bench-${r.startedAt.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, json);
  writeFileSync(`${dir}latest.json`, json);
  return file;
}
