import { loadavg } from 'node:os';
import { loadConfig } from '../../src/config/config.js';
import { removeOnInterrupt, startBenchStack } from './bench-stack.js';
import { benchLifecycle, lifecycleRun } from './lifecycle.js';
import { progress } from './progress.js';
import { lifecycleGoal, lifecycleRows, renderRows } from './report.js';

/** `npm run bench:lifecycle`: the lifecycle part of `npm run bench` alone, printed and not stored. */
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'usage: npm run bench:lifecycle\n\nRuns the lifecycle benchmark of npm run bench alone on a private stack (about 2 minutes on 2 cores):\n' +
      "Lifeline's executions per second against a bare one-activity workflow, Temporal's work and CPU per execution, latency.",
  );
  process.exit(0);
}

const config = loadConfig();
const bs = await startBenchStack();
removeOnInterrupt(bs);
progress(`stack up (${bs.dir})`);
try {
  const lifecycle = { ...(await benchLifecycle(bs, { ...lifecycleRun, config })), ...lifecycleRun };
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at end\n`,
  );
  console.log(renderRows(lifecycleRows(lifecycle), [lifecycleGoal(lifecycle)]).join('\n'));
} finally {
  progress('stopping the stack');
  await bs.close();
}
