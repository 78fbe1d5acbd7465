import { CommanderError } from 'commander';
import { parseChaosArgs, type ChaosOptions } from './options.js';
import { formatReport } from './report.js';
import { runChaos } from './run-chaos.js';

/**
 * `npm run chaos -- [options]`: a bounded chaos run against a private stack. Exit codes: 0 no
 * violation, 1 a violation or a failed run, 2 bad usage, 130 interrupted. Ctrl-C stops the run and
 * every process it started.
 */
function optionsOrExit(): ChaosOptions {
  try {
    return parseChaosArgs(process.argv);
  } catch (err) {
    // Commander has already printed the help or the usage error.
    process.exit(err instanceof CommanderError && err.exitCode === 0 ? 0 : 2);
  }
}

const options = optionsOrExit();
const abort = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (abort.signal.aborted) return;
    console.error(`\n${signal}: stopping the chaos run and every process it started...`);
    abort.abort(new Error(`interrupted by ${signal}`));
  });
}

console.log(`chaos seed ${options.seed} (replay the plan with --seed ${options.seed})`);
try {
  const result = await runChaos({ ...options, progress: (line) => console.log(line), signal: abort.signal });
  console.log(`\n${formatReport(result)}`);
  console.log(`JSON result: ${options.jsonOut}`);
  process.exitCode = result.violations === 0 ? 0 : 1;
} catch (err) {
  console.error(abort.signal.aborted ? String(abort.signal.reason) : err);
  process.exitCode = abort.signal.aborted ? 130 : 1;
}
