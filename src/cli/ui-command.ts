import type { Command } from 'commander';
import { createAgentStore } from '../store/agent-store.js';
import { createTenantStore } from '../store/tenant-store.js';
import { operatorViews } from '../temporal/operator-views.js';
import { UsageError } from './cli-errors.js';
import { withCliContext } from './cli-context.js';
import { printJson, printTable } from './output.js';

export function addUiCommand(program: Command): void {
  program
    .command('ui')
    .description(
      'links to ready Temporal UI views: executions only, running by agent, live by tenant, failed in the last hour, queued, waiting, problems',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const { uiUrl, namespace } = ctx.config.temporal;
        if (!uiUrl) throw new UsageError('no Temporal UI configured: set LIFELINE_TEMPORAL_UI_URL, or run `npm start`');
        const agents = (await createAgentStore(ctx.pool()).list()).map((a) => a.name);
        const tenants = (await createTenantStore(ctx.pool()).list()).map((t) => t.name);
        const views = operatorViews({ uiUrl, namespace, agents, tenants, now: new Date() });
        if (opts.json) return printJson(views);
        printTable(
          ['view', 'link'],
          views.map((v) => [v.title, v.url]),
        );
      }),
    );
}
