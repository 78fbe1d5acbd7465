import { removeOnInterrupt, startBenchStack } from './bench-stack.js';
import { progress } from './progress.js';
import { benchScale } from './scale.js';

/**
 * `npm run bench:scale [-- runs]`: the scale figures of DESIGN §10 on a private stack, printed as
 * JSON (1,000 runs by default; goal: under half a core for 1,000 runs, stop p99 within 2 s).
 */
const arg = process.argv[2];
if (arg === '--help' || arg === '-h') {
  console.log('usage: npm run bench:scale [-- <runs>]   (default 1000 long runs on one worker)');
  process.exit(0);
}
const runs = arg === undefined ? 1000 : Number(arg);
if (!Number.isInteger(runs) || runs < 10 || runs > 10_000) {
  console.error(`runs must be a whole number from 10 to 10000, not ${JSON.stringify(arg)}`);
  process.exit(2);
}
const bs = await startBenchStack();
removeOnInterrupt(bs);
try {
  const result = await benchScale(bs, { runs, windowSeconds: 30, stops: Math.min(100, Math.floor(runs / 10)) });
  const goals = {
    'under half a core per 1,000 runs': result.cpuCoresPer1000Runs < 0.5,
    'stop p99 within 2 s': result.stopToProcessGoneMs.p99 <= 2000,
  };
  console.log(JSON.stringify({ ...result, goals }, null, 2));
} finally {
  progress('stopping the stack');
  await bs.close();
}
