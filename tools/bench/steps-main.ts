import { loadConfig } from '../../src/config/config.js';
import { removeOnInterrupt, startBenchStack } from './bench-stack.js';
import { progress } from './progress.js';
import { benchSteps } from './steps.js';

/** `npm run bench:steps`: what each I/O step of an execution costs, printed and not stored. */
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    "usage: npm run bench:steps\n\nCalls each I/O step of an execution (the client's start checks, admit, runAgent, conclude) 500 times\n" +
      'in a row against an instant agent on a private stack (about a minute on 2 cores), and prints the CPU\n' +
      'milliseconds each call costs this process, Postgres and Redis, and its wall time.',
  );
  process.exit(0);
}

const bs = await startBenchStack();
removeOnInterrupt(bs);
progress(`stack up (${bs.dir})`);
try {
  const costs = await benchSteps(bs, loadConfig(), 500);
  const width = Math.max(...costs.map((c) => c.step.length)) + 2;
  for (const { step, cpu, wallMs } of costs) {
    const parts = Object.entries(cpu)
      .filter(([, ms]) => ms >= 0.05)
      .sort(([, a], [, b]) => b - a)
      .map(([part, ms]) => `${part} ${ms.toFixed(2)}`)
      .join(', ');
    console.log(`${step.padEnd(width)}CPU ms per call: ${parts}; wall ${wallMs.toFixed(2)} ms`);
  }
} finally {
  progress('stopping the stack');
  await bs.close();
}
