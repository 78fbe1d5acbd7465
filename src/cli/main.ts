#!/usr/bin/env node
import { Command } from 'commander';
import { addAgentsCommands } from './agents-command.js';
import { reportFailure } from './cli-errors.js';
import { addDeployCommands } from './deploy-command.js';
import { addExecutionsCommands } from './executions-command.js';
import { addReconcileCommand } from './reconcile-command.js';
import { addSchedulesCommands } from './schedules-command.js';
import { addSetupCommand } from './setup-command.js';
import { addStatusCommand } from './status-command.js';
import { addTenantsCommands } from './tenants-command.js';
import { addUiCommand } from './ui-command.js';

/**
 * `lifeline`: the operator's command line. Exit codes: 0 success, 1 error, 2 bad usage or invalid
 * input. Connections come from the environment (see docs/configuration.md), else from `npm start`'s stack file.
 */
const program = new Command('lifeline')
  .description('Durable AI-agent executions on Temporal: start, inspect, stop, schedule, reconcile.')
  .showHelpAfterError('(add --help for usage)')
  // Usage errors come back as exceptions, so the exit code is chosen in one place. Set before the
  // commands are added: subcommands inherit it.
  .exitOverride();
addExecutionsCommands(program);
addAgentsCommands(program);
addSchedulesCommands(program);
addTenantsCommands(program);
addReconcileCommand(program);
addSetupCommand(program);
addDeployCommands(program);
addUiCommand(program);
addStatusCommand(program);

// Output piped into `head` and the like: once the reader is gone, there is nothing left to do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportFailure(err);
}
