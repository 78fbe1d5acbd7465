import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { faultKinds } from '../tools/chaos/fault-injector.js';
import { formatReport } from '../tools/chaos/report.js';
import { runChaos } from '../tools/chaos/run-chaos.js';

describe('a small chaos run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-chaos-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('kills and deploys workers (a code change among the deploys), restarts every server, cancels and terminates, and no invariant breaks', async () => {
    const jsonOut = join(dir, 'chaos.json');
    const result = await runChaos({
      executions: 30,
      workers: 3,
      kills: 2,
      rollingDeploys: 1,
      codeChanges: 1,
      temporalRestarts: 1,
      agentServerRestarts: 1,
      redisRestarts: 1,
      redisFailovers: 1,
      redisFlushes: 1,
      postgresRestarts: 1,
      cancels: 2,
      terminations: 2,
      submitSeconds: 20,
      deadlineSeconds: 120,
      // Its own Temporal, Postgres and Redis (it restarts them all); the suite's workflow bundle.
      workflowBundlePath: inject('workflowBundlePath'),
      jsonOut,
    });
    console.log(formatReport(result));

    for (const kind of faultKinds.filter((k) => result.plannedFaults[k] > 0)) {
      const injected = result.faults.filter((f) => f.kind === kind && f.error === undefined);
      const errors = result.faults.filter((f) => f.kind === kind && f.error !== undefined).map((f) => f.error);
      expect(injected.length, `${kind} injected (failed: ${errors.join('; ')})`).toBeGreaterThan(0);
    }
    expect(result.settled).toBe(true);
    const violations = result.invariants.flatMap((i) => i.violations.map((v) => `[${i.name}] ${v.executionId ?? ''} ${v.detail}`));
    expect(violations).toEqual([]);
    expect(result.invariants.find((i) => i.name === 'every row terminal')?.checked).toBe(30);
    expect(existsSync(jsonOut)).toBe(true);
  }, 360_000);
});
