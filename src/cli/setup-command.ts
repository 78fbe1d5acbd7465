import type { Command } from 'commander';
import { migrate } from '../db/migrate.js';
import { registerSearchAttributes } from '../temporal-prerequisites/register-search-attributes.js';
import { searchAttributeSetupCommands, waitForSearchAttributes } from '../temporal-prerequisites/search-attribute-usable.js';
import { withCliContext } from './cli-context.js';
import { printJson } from './output.js';

export function addSetupCommand(program: Command): void {
  program
    .command('setup')
    .summary('migrate the database and register search attributes')
    .description(
      "prepare servers that `npm start` did not create: apply database migrations and register Lifeline's search attributes on the Temporal namespace, then wait until the namespace accepts them (safe to run again). The only Lifeline command that writes to the namespace: it needs admin rights there, workers do not. --print shows the commands instead, for an operator to run where Lifeline may not.",
    )
    .option('--json', 'print JSON')
    .option('--print', 'print the Temporal CLI and tcld commands that add the search attributes, and change nothing')
    .action((opts: { json?: boolean; print?: boolean }) =>
      withCliContext(async (ctx) => {
        const { namespace } = ctx.config.temporal;
        if (opts.print) {
          const commands = searchAttributeSetupCommands(namespace);
          return opts.json
            ? printJson({ namespace, commands: commands.filter((c) => !c.startsWith('#')) })
            : console.log(commands.join('\n'));
        }
        const migrations = await migrate(ctx.config.migrationsDatabaseUrl ?? ctx.databaseUrl(), ctx.log);
        const connection = await ctx.temporalConnection();
        const searchAttributes = await registerSearchAttributes(connection, namespace);
        await waitForSearchAttributes(connection, namespace);
        if (opts.json) return printJson({ migrations, namespace, searchAttributes });
        console.log(`migrations applied: ${migrations.length > 0 ? migrations.join(', ') : 'none (up to date)'}`);
        console.log(
          `search attributes on namespace ${namespace}: added ${searchAttributes.added.join(', ') || 'none'}; already there ${searchAttributes.alreadyPresent.join(', ') || 'none'}; all usable`,
        );
      }),
    );
}
