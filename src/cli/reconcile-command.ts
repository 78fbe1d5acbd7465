import type { Command } from 'commander';
import { buildLifelineDeps } from '../wiring/build-lifeline-deps.js';
import type { ReconcileReport } from '../contract/reconcile-report.js';
import { reconcileOnce } from '../reconciler/reconcile.js';
import { withCliContext } from './cli-context.js';
import { printJson, printTable } from './output.js';

function printReport(report: ReconcileReport): void {
  const mode = report.dryRun ? 'dry run, nothing changed' : 'applied';
  const sweep = report.sweep === 'full' ? 'full sweep' : 'anomalies only';
  console.log(
    `${sweep}: checked ${report.liveRowsChecked} live rows and ${report.leasesChecked} slot leases, described ${report.workflowsDescribed} workflows in ${report.durationMs} ms (${mode})`,
  );
  if (report.recoveries.length > 0) {
    console.log(`\n${report.dryRun ? 'would recover' : 'recovered'}:`);
    printTable(
      ['execution', 'agent', 'workflow', 'action', 'status'],
      report.recoveries.map((r) => [r.executionId, r.agent, r.workflow, r.action, r.status ?? '']),
    );
  }
  if (report.failures.length > 0) {
    console.log('\nfailed:');
    printTable(
      ['execution', 'error'],
      report.failures.map((f) => [f.executionId, f.error]),
    );
  }
}

export function addReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .summary('run one reconcile cycle now')
    .description(
      'one full reconcile cycle now: ask Temporal about the workflow of every live row, finalize the rows whose workflow is closed or missing, restore lost leases, release leaked slots (exits 1 if a recovery failed)',
    )
    .option('--dry-run', 'report what would be recovered, change nothing')
    .option('--quick', 'only what a regular scheduled cycle looks at: closed workflows that left their row live, lost and leaked leases')
    .option('--json', 'print JSON')
    .action((opts: { dryRun?: boolean; quick?: boolean; json?: boolean }) =>
      withCliContext(async (ctx) => {
        // Each server is checked first: one that does not answer is one line, not a failure per agent.
        const redis = await ctx.readyRedis();
        await ctx.pool().query('SELECT 1');
        const deps = buildLifelineDeps({
          pool: ctx.pool(),
          redis,
          workflows: (await ctx.temporal()).workflow,
          config: ctx.config,
          log: ctx.log,
        });
        const report = await reconcileOnce(deps, { sweep: opts.quick ? 'anomalies' : 'full', dryRun: opts.dryRun === true });
        if (opts.json) printJson(report);
        else printReport(report);
        if (report.failures.length > 0) process.exitCode = 1;
      }),
    );
}
