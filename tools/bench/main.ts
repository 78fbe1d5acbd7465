import { cpus, loadavg } from 'node:os';
import { loadConfig } from '../../src/config/config.js';
import { removeOnInterrupt, startBenchStack } from './bench-stack.js';
import { benchLifecycle, lifecycleRun } from './lifecycle.js';
import { progress } from './progress.js';
import { benchReconciler } from './reconciler.js';
import { benchRecovery } from './recovery.js';
import { evaluateGoals, renderTable, writeResults, type BenchResults } from './report.js';
import { benchSlots } from './slots.js';

/**
 * `npm run bench`: Lifeline's figures on a private stack of its own. It prints them and never
 * fails on a slow machine; the goals are reported as met or not.
 */
const recoveryRepeats = 3;
const liveRows = 1000;
const terminalSteps = [10_000, 1_000_000];

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'usage: npm run bench\n\nRuns every benchmark on a private stack of its own (about 15 minutes on 2 cores), prints the figures\n' +
      'and the goals met or not, and writes them under tools/bench/results/. Ctrl-C stops it and removes its temp dir.\n' +
      'The lifecycle alone (about 2 minutes): npm run bench:lifecycle. The scale benchmark is separate: npm run bench:scale -- --help',
  );
  process.exit(0);
}

const startedAt = new Date();
const loadAverageAtStart = loadavg();
// Production defaults (or whatever this environment sets), as a real deployment would run.
const config = loadConfig();
const bs = await startBenchStack();
removeOnInterrupt(bs);
progress(`stack up (${bs.dir})`);
try {
  const lifecycle = await benchLifecycle(bs, { ...lifecycleRun, config });
  const recovery = [await benchRecovery(bs, 5, recoveryRepeats), await benchRecovery(bs, 30, recoveryRepeats)];
  progress('slots: acquire+release against the EVALSHA baseline');
  const slots = await benchSlots(bs, { pairsPerRound: 10_000, roundsPerKind: 4, depth: 32 });
  const reconciler = await benchReconciler(bs, config, liveRows, terminalSteps);

  const partial: Omit<BenchResults, 'goals'> = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: {
      cpus: cpus().length,
      node: process.version,
      platform: process.platform,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg(),
    },
    settings: {
      'poll interval': `${config.execution.pollIntervalMs} ms`,
      'heartbeat timeout (lifecycle)': `${config.execution.heartbeatTimeoutSeconds} s`,
      'reconcile grace': `${config.reconciler.graceSeconds} s`,
      'worker (SDK defaults)': lifecycle.workerSlots,
      'same worker tuning for lifeline and bare': lifecycle.sameWorkerTuning ? 'yes' : 'NO',
      'agent for 1-2': 'tools/bench/instant-agent.ts (HTTP, succeeded on POST)',
      'agent for 3': 'reference agent server, prompt "succeed 30"',
    },
    lifecycle: { ...lifecycle, perKind: lifecycleRun.perKind, concurrency: lifecycleRun.concurrency },
    recovery,
    reconciler,
    slots,
  };
  const results: BenchResults = { ...partial, goals: evaluateGoals(partial) };
  console.log(renderTable(results));
  console.log(`\nresults: ${writeResults(results)} (and tools/bench/results/latest.json)`);
} finally {
  progress('stopping the stack');
  await bs.close();
}
