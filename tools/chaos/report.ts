import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatTable } from '../../src/cli/output.js';
import type { ErrorKind, TerminalStatus } from '../../src/domain/execution-status.js';
import { faultKinds, type FaultEvent, type FaultKind } from './fault-injector.js';
import type { InvariantResult } from './invariants.js';
import type { ChaosOptions } from './options.js';
import { sampleEveryMs, type ProcessSamples } from './process-sampler.js';
import type { Behaviour } from './workload.js';

export interface ExecutionReport {
  executionId: string;
  agent: string;
  behaviour: Behaviour;
  busyPolicy: string;
  timeoutSeconds: number;
  status: TerminalStatus | 'queued' | 'running' | 'missing';
  errorKind: ErrorKind | null;
  agentRuns: number;
  faults: string[];
}

export interface ChaosResult {
  runId: string;
  seed: number;
  options: ChaosOptions;
  reconcileGraceSeconds: number;
  startedAt: string;
  durationMs: number;
  /** Whether everything settled before the deadline, and what had not. */
  settled: boolean;
  unsettled: string[];
  plannedFaults: Record<FaultKind, number>;
  faults: FaultEvent[];
  invariants: InvariantResult[];
  violations: number;
  /** Each agent's live processes, counted every 250 ms during the run: the most seen against its capacity. */
  processes: ProcessSamples[];
  executions: ExecutionReport[];
  /** The run directory with every log, when it was kept. */
  logDir: string | undefined;
}

const shownViolations = 25;

function countBy<T>(items: T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** The human summary: faults injected, how executions ended, and each invariant with its violations. */
export function formatReport(result: ChaosResult): string {
  const { options } = result;
  const faultRows = faultKinds.map((kind) => {
    const events = result.faults.filter((f) => f.kind === kind);
    const failed = events.filter((f) => f.error !== undefined);
    const targets = events.filter((f) => f.error === undefined).map((f) => [f.target, f.detail].filter(Boolean).join(' '));
    return [kind, String(result.plannedFaults[kind]), String(events.length - failed.length), String(failed.length), targets.join('; ')];
  });
  const outcomeRows = countBy(result.executions, (e) => `${e.status}${e.errorKind ? `/${e.errorKind}` : ''}`).map(([k, n]) => [
    k,
    String(n),
  ]);
  const processRows = result.processes.map((g) => [
    g.name,
    String(g.limit),
    String(g.most),
    String(g.samples),
    String(g.overLimit.reduce((n, o) => n + o.samples, 0)),
  ]);
  const invariantRows = result.invariants.map((i) => [i.name, String(i.checked), String(i.violations.length)]);
  const violations = result.invariants.flatMap((i) =>
    i.violations.map((v) => `  [${i.name}] ${v.executionId ?? ''} ${v.detail}`.trimEnd()),
  );
  return [
    `chaos run ${result.runId}: seed ${result.seed}, ${options.executions} executions over ${options.submitSeconds} s, ` +
      `${options.workers} workers, reconcile grace ${result.reconcileGraceSeconds} s; took ${(result.durationMs / 1000).toFixed(1)} s`,
    '',
    'faults',
    formatTable(['fault', 'planned', 'injected', 'failed', 'targets'], faultRows),
    '',
    'outcomes',
    formatTable(['status/error_kind', 'executions'], outcomeRows),
    '',
    `agent processes, by agent and by tenant limit (counted every ${sampleEveryMs} ms)`,
    formatTable(['agent or tenant', 'limit', 'most alive', 'samples', 'samples above limit'], processRows),
    '',
    'invariants',
    formatTable(['invariant', 'checked', 'violations'], invariantRows),
    ...(result.settled ? [] : ['', `did not settle within ${options.deadlineSeconds} s: ${result.unsettled.join(', ')}`]),
    ...(violations.length > 0 ? ['', 'violations', ...violations.slice(0, shownViolations)] : []),
    ...(violations.length > shownViolations ? [`  ... and ${violations.length - shownViolations} more (see the JSON)`] : []),
    ...(result.logDir ? ['', `logs kept in ${result.logDir}`] : []),
    '',
    result.violations === 0 ? 'result: PASS, no violation' : `result: FAIL, ${result.violations} violation(s)`,
  ].join('\n');
}

export function writeResultJson(path: string, result: ChaosResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}
