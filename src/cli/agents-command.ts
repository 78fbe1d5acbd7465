import type { Command } from 'commander';
import { z } from 'zod';
import { tokenPolicyProblem } from '../config/token-policy.js';
import {
  describeToken,
  describeTokenProblem,
  parseTokenReference,
  tokenReferenceSchema,
  type TokenReference,
} from '../domain/token-reference.js';
import { limits, startExecutionSchema } from '../contract/start-execution-schema.js';
import { createCapacitySlots } from '../slots/capacity-slots.js';
import { createAgentStore } from '../store/agent-store.js';
import { createExecutionReader } from '../store/execution-reader.js';
import { createSlotHoldStore } from '../store/slot-holds.js';
import { withCliContext, type CliContext } from './cli-context.js';
import { UsageError } from './cli-errors.js';
import { wholeNumber } from './option-parsers.js';
import { printJson, printTable } from './output.js';
import { withoutCredentials } from '../config/server-address.js';

/** The same limits the agents table enforces, checked first so that each bad option is named. */
const agentSchema = z.object({
  name: startExecutionSchema.shape.agent,
  baseUrl: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL'),
  capacity: z.number().int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
  defaultTimeoutSeconds: startExecutionSchema.shape.timeoutSeconds,
  defaultIdleTimeoutSeconds: startExecutionSchema.shape.idleTimeoutSeconds,
  token: tokenReferenceSchema,
});

interface AddOptions {
  name: string;
  url: string;
  token?: string;
  tokenEnv?: string;
  tokenFile?: string;
  tokenLiteral?: string;
  capacity: number;
  defaultTimeout?: number;
  defaultIdleTimeout?: number;
  replace?: boolean;
}

/** How the row will hold the token. Neither this nor any message quotes a literal. */
function tokenFrom(opts: AddOptions): TokenReference {
  const given = [opts.tokenEnv, opts.tokenFile, opts.token, opts.tokenLiteral].filter((o) => o !== undefined).length;
  if (given !== 1) {
    throw new UsageError(
      'give the bearer token with one of --token-env VAR, --token-file PATH, --token env:VAR|file:PATH, --token-literal TOKEN',
    );
  }
  if (opts.tokenEnv !== undefined) return { source: 'env', ref: opts.tokenEnv };
  if (opts.tokenFile !== undefined) return { source: 'file', ref: opts.tokenFile };
  if (opts.tokenLiteral !== undefined) return { source: 'literal', ref: opts.tokenLiteral };
  const reference = parseTokenReference(opts.token!);
  if (!reference)
    throw new UsageError('--token: must be env:VAR or file:/absolute/path; a token itself is stored only with --token-literal');
  return reference;
}

/**
 * Per agent, the slots in use (Redis' leases) and how many of them ended executions hold while their
 * process is stopped (Postgres). Redis out of reach: the count is unknown, the holds are still said.
 */
async function slotUse(ctx: CliContext, agents: string[]): Promise<Map<string, { inUse?: number; heldByEnded: number }>> {
  const holds = await createSlotHoldStore(ctx.pool()).slotHolds();
  let slots: ReturnType<typeof createCapacitySlots> | undefined;
  try {
    slots = createCapacitySlots(ctx.redis(), { leaseMs: 30_000, waiterTtlMs: 10_000 });
    await slots.ping();
  } catch {
    slots = undefined;
  }
  const use = new Map<string, { inUse?: number; heldByEnded: number }>();
  for (const agent of agents) {
    const inUse = slots
      ? await slots.leases(agent).then(
          (leases) => leases.length,
          () => undefined,
        )
      : undefined;
    use.set(agent, { inUse, heldByEnded: holds.filter((hold) => hold.agent === agent).length });
  }
  return use;
}

export function addAgentsCommands(program: Command): void {
  const agents = program.command('agents').description('the agents executions run on');

  agents
    .command('list')
    .description('registered agents and how each token is held (a literal token is never shown)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const list = await createAgentStore(ctx.pool()).list();
        const use = await slotUse(
          ctx,
          list.map((a) => a.name),
        );
        // A URL's `user:password@` is a secret: listings never show it.
        if (opts.json)
          return printJson(
            list.map((a) => ({
              ...a,
              baseUrl: withoutCredentials(a.baseUrl),
              slotsInUse: use.get(a.name)?.inUse ?? null,
              slotsHeldByEnded: use.get(a.name)?.heldByEnded ?? 0,
            })),
          );
        printTable(
          ['name', 'capacity', 'slots in use', 'default timeout', 'default idle timeout', 'token', 'url'],
          list.map((a) => [
            a.name,
            String(a.capacity),
            slotsText(use.get(a.name)),
            a.defaultTimeoutSeconds ? `${a.defaultTimeoutSeconds} s` : '-',
            a.defaultIdleTimeoutSeconds ? `${a.defaultIdleTimeoutSeconds} s` : '-',
            describeToken(a.token),
            withoutCredentials(a.baseUrl),
          ]),
        );
      }),
    );

  agents
    .command('add')
    .description('add an agent (an existing name needs --replace)')
    .requiredOption('--name <name>', 'agent name: a-z, 0-9, _ and -, at most 63')
    .requiredOption('--url <url>', "the agent's base URL")
    .option(
      '--token-env <var>',
      "the worker's environment variable holding its bearer token, one LIFELINE_AGENT_TOKEN_ENV allows, read by the workers (stores env:VAR)",
    )
    .option(
      '--token-file <path>',
      'absolute path of a file in LIFELINE_AGENT_TOKEN_DIR on the worker holding its bearer token, read by the workers (stores file:PATH)',
    )
    .option('--token <reference>', 'env:VAR or file:PATH, as `agents list` shows them')
    .option('--token-literal <token>', 'store the bearer token itself in Postgres (prefer a reference: arguments end up in shell history)')
    .requiredOption('--capacity <n>', 'executions it may run at once, 1-10000', wholeNumber)
    .option(
      '--default-timeout <seconds>',
      `timeout of its executions when the start gives none, ${limits.timeoutSeconds.min}-${limits.timeoutSeconds.max} s`,
      wholeNumber,
    )
    .option(
      '--default-idle-timeout <seconds>',
      'idle timeout of its executions when the start gives none (5-86400): no progress reported for this long stops the run',
      wholeNumber,
    )
    .option('--replace', 'replace the agent of this name: its URL, token, capacity and timeouts')
    .action((opts: AddOptions) =>
      withCliContext(async (ctx) => {
        const parsed = agentSchema.safeParse({
          name: opts.name,
          baseUrl: opts.url,
          capacity: opts.capacity,
          defaultTimeoutSeconds: opts.defaultTimeout,
          defaultIdleTimeoutSeconds: opts.defaultIdleTimeout,
          token: tokenFrom(opts),
        });
        if (!parsed.success) {
          throw new UsageError(`invalid agent: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        }
        const agent = parsed.data;
        // The workers refuse it too (following symlinks there): refused here, it is never saved.
        const refused = tokenPolicyProblem(agent.token, ctx.config.agentTokens);
        if (refused !== undefined) throw new UsageError(describeTokenProblem(agent.name, agent.token, refused));
        const store = createAgentStore(ctx.pool());
        const existing = await store.get(agent.name);
        if (existing && !opts.replace) {
          throw new UsageError(
            `agent ${agent.name} already exists (${withoutCredentials(existing.baseUrl)}, capacity ${existing.capacity}); add --replace to replace it`,
          );
        }
        await store.upsert({
          ...agent,
          baseUrl: agent.baseUrl.replace(/\/+$/, ''),
          defaultTimeoutSeconds: agent.defaultTimeoutSeconds ?? null,
          defaultIdleTimeoutSeconds: agent.defaultIdleTimeoutSeconds ?? null,
        });
        console.log(
          `agent ${agent.name} ${existing ? 'replaced' : 'saved'} (capacity ${agent.capacity}, token ${describeToken(agent.token)})`,
        );
      }),
    );

  agents
    .command('remove')
    .description('remove an agent: new executions refuse it; its history stays (`agents add` brings it back)')
    .argument('<name>', 'the agent')
    .option('--force', 'remove it even with queued or running executions: they run on to their end, new ones are refused')
    .action((name: string, opts: { force?: boolean }) =>
      withCliContext(async (ctx) => {
        const store = createAgentStore(ctx.pool());
        if (!(await store.get(name))) throw new UsageError(`no agent ${name} (lifeline agents list)`);
        const live = await createExecutionReader(ctx.pool()).liveCount(name);
        if (live > 0 && !opts.force) {
          throw new UsageError(
            `agent ${name} has ${live} queued or running execution${live === 1 ? '' : 's'} (lifeline executions list --agent ${name}); ` +
              'stop them first, or add --force to let them finish and refuse new ones',
          );
        }
        await store.remove(name);
        console.log(
          `agent ${name} removed${live > 0 ? `; its ${live} queued or running execution${live === 1 ? '' : 's'} run on to their end` : ''}`,
        );
      }),
    );
}

function slotsText(use: { inUse?: number; heldByEnded: number } | undefined): string {
  const inUse = use?.inUse === undefined ? '? (Redis unreachable)' : String(use.inUse);
  return use && use.heldByEnded > 0 ? `${inUse} (${use.heldByEnded} held by ended executions still stopping)` : inUse;
}
