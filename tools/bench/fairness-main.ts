import { removeOnInterrupt, startBenchStack } from './bench-stack.js';
import { benchFairness } from './fairness.js';
import { progress } from './progress.js';

/**
 * `npm run bench:fairness`: tenants sharing an agent, through real executions on a private stack,
 * printed as JSON whose `goals` say whether each goal of DESIGN (Tenants) was met.
 */
if (process.argv[2] === '--help' || process.argv[2] === '-h') {
  console.log("usage: npm run bench:fairness   (tenant B alone and behind tenant A's 500 runs; shares at weights 1:1 and 3:1)");
  process.exit(0);
}
const bs = await startBenchStack();
removeOnInterrupt(bs);
try {
  const result = await benchFairness(bs, { capacity: 10, runSeconds: 3, backlog: 500, burst: 40, perTenantForShares: 150 });
  const within10Percent = (errors: Record<string, number>) => Object.values(errors).every((e) => Math.abs(e) <= 0.1);
  const goals = {
    "each backlogged tenant's share within 10 % of its weight (1:1)": within10Percent(result.equalWeights.error),
    "each backlogged tenant's share within 10 % of its weight (3:1)": within10Percent(result.weights3to1.error),
    "B's p95 wait behind A's backlog at most 2x alone": result.p95Ratio <= 2,
  };
  console.log(JSON.stringify({ ...result, goals }, null, 2));
} finally {
  progress('stopping the stack');
  await bs.close();
}
