import type { Command } from 'commander';
import { buildActivityDeps } from '../activities/build-activity-deps.js';
import { reconcileOnce, type ReconcileReport } from '../reconciler/reconcile.js';
import { withCliContext } from './cli-context.js';
import { printJson, printTable } from './output.js';

function printReport(report: ReconcileReport): void {
  const mode = report.dryRun ? 'dry run, nothing changed' : 'applied';
  console.log(
    `checked ${report.liveRowsChecked} live rows and ${report.leasesChecked} slot leases in ${report.durationMs} ms (${mode})`,
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
      'one reconcile cycle now, as the worker runs on its schedule: finalize live rows whose workflow is closed or missing, release leaked slots (exits 1 if a recovery failed)',
    )
    .option('--dry-run', 'report what would be recovered, change nothing')
    .option('--json', 'print JSON')
    .action((opts: { dryRun?: boolean; json?: boolean }) =>
      withCliContext(async (ctx) => {
        const { config } = ctx;
        const deps = buildActivityDeps({
          pool: ctx.pool(),
          redis: ctx.redis(),
          workflows: (await ctx.temporal()).workflow,
          settings: config.execution,
          log: ctx.log,
          reconcileGraceSeconds: config.reconciler.graceSeconds,
          webhookUrl: config.webhookUrl,
        });
        const report = await reconcileOnce(
          {
            ...deps,
            graceSeconds: deps.reconcileGraceSeconds,
            stopWaitSeconds: deps.settings.stopWaitSeconds,
          },
          { dryRun: opts.dryRun === true },
        );
        if (opts.json) printJson(report);
        else printReport(report);
        if (report.failures.length > 0) process.exitCode = 1;
      }),
    );
}
