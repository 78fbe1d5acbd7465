import { Option, type Command } from 'commander';
import { z } from 'zod';
import { startExecutionSchema } from '../client/execution-input.js';
import { createAgentStore } from '../store/agent-store.js';
import { withCliContext } from './cli-context.js';
import { UsageError } from './cli-errors.js';
import { wholeNumber } from './option-parsers.js';
import { printJson, printTable } from './output.js';

/** The same limits the agents table enforces, checked first so that each bad option is named. */
const agentSchema = z.object({
  name: startExecutionSchema.shape.agent,
  baseUrl: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL'),
  capacity: z.number().int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
  defaultTimeoutSeconds: startExecutionSchema.shape.timeoutSeconds,
  token: z.string().min(1, 'must not be empty'),
});

interface AddOptions {
  name: string;
  url: string;
  token?: string;
  tokenEnv?: string;
  capacity: number;
  defaultTimeout?: number;
}

function tokenFrom(opts: AddOptions): string {
  if (opts.token !== undefined) return opts.token;
  if (opts.tokenEnv === undefined) throw new UsageError('give the bearer token with --token-env VAR (or --token)');
  const token = process.env[opts.tokenEnv];
  if (!token) throw new UsageError(`--token-env: environment variable ${opts.tokenEnv} is not set`);
  return token;
}

export function addAgentsCommands(program: Command): void {
  const agents = program.command('agents').description('the agents executions run on');

  agents
    .command('list')
    .description('registered agents (tokens are never shown)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const list = await createAgentStore(ctx.pool()).list();
        if (opts.json) return printJson(list);
        printTable(
          ['name', 'capacity', 'default timeout', 'url'],
          list.map((a) => [a.name, String(a.capacity), a.defaultTimeoutSeconds ? `${a.defaultTimeoutSeconds} s` : '-', a.baseUrl]),
        );
      }),
    );

  agents
    .command('add')
    .description('add an agent, or replace the one with this name')
    .requiredOption('--name <name>', 'agent name (a-z, 0-9, _ and -)')
    .requiredOption('--url <url>', "the agent's base URL")
    .addOption(new Option('--token-env <var>', 'environment variable holding its bearer token').conflicts('token'))
    .option('--token <token>', 'its bearer token (prefer --token-env: arguments end up in shell history)')
    .requiredOption('--capacity <n>', 'executions it may run at once', wholeNumber)
    .option('--default-timeout <seconds>', 'timeout of its executions when the start gives none', wholeNumber)
    .action((opts: AddOptions) =>
      withCliContext(async (ctx) => {
        const parsed = agentSchema.safeParse({
          name: opts.name,
          baseUrl: opts.url,
          capacity: opts.capacity,
          defaultTimeoutSeconds: opts.defaultTimeout,
          token: tokenFrom(opts),
        });
        if (!parsed.success) {
          throw new UsageError(`invalid agent: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        }
        const agent = parsed.data;
        await createAgentStore(ctx.pool()).upsert({
          ...agent,
          baseUrl: agent.baseUrl.replace(/\/+$/, ''),
          defaultTimeoutSeconds: agent.defaultTimeoutSeconds ?? null,
        });
        console.log(`agent ${agent.name} saved (capacity ${agent.capacity})`);
      }),
    );
}
