import type { Command } from 'commander';
import { migrate } from '../db/migrate.js';
import { registerSearchAttributes } from '../temporal/register-search-attributes.js';
import { withCliContext } from './cli-context.js';
import { printJson } from './output.js';

export function addSetupCommand(program: Command): void {
  program
    .command('setup')
    .summary('migrate the database and register search attributes')
    .description(
      "prepare servers that `npm start` did not create: apply database migrations and register Lifeline's search attributes on the Temporal namespace (safe to run again)",
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const migrations = await migrate(ctx.databaseUrl(), ctx.log);
        const { namespace } = ctx.config.temporal;
        const searchAttributes = await registerSearchAttributes(await ctx.temporalConnection(), namespace);
        if (opts.json) return printJson({ migrations, namespace, searchAttributes });
        console.log(`migrations applied: ${migrations.length > 0 ? migrations.join(', ') : 'none (up to date)'}`);
        console.log(
          `search attributes on namespace ${namespace}: added ${searchAttributes.added.join(', ') || 'none'}; already there ${searchAttributes.alreadyPresent.join(', ') || 'none'}`,
        );
      }),
    );
}
