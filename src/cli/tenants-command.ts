import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { startExecutionSchema } from '../contract/start-execution-schema.js';
import { budgetUses } from '../domain/tenant-budget.js';
import { tenantChangeSchema, tenantLimits } from '../domain/tenant-settings-input.js';
import { defaultTenantSettings, type TenantSettings } from '../domain/tenants.js';
import { createTenantSpend, type TenantUse } from '../store/tenant-spend.js';
import { createTenantStore } from '../store/tenant-store.js';
import { withCliContext } from './cli-context.js';
import { UsageError } from './cli-errors.js';
import { printFields, printJson, printTable } from './output.js';

/**
 * A number, or `none` to clear the limit or budget (kept as the word: commander turns a parser's
 * null into an empty string); its range is the change's validation to name.
 */
function numberOrNone(value: string): number | 'none' {
  if (value === 'none') return value;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('must be a number such as 10 or 2.50, or none');
  return Number(value);
}

function decimal(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('must be a number such as 1 or 0.5');
  return Number(value);
}

const tenantName = (name: string): string => {
  const parsed = startExecutionSchema.shape.tenant.safeParse(name);
  if (!parsed.success) throw new UsageError(`tenant: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return name;
};

const orNone = (n: number | null, unit = '') => (n === null ? 'none' : `${n}${unit}`);

/** `3.20 of 10 USD (32 %)`, or `3.20 USD (no budget)`. */
function spendText(settings: TenantSettings, use: TenantUse | undefined, period: 'day' | 'month'): string {
  const spent = use ?? { dayUsd: 0, monthUsd: 0 };
  const found = budgetUses(settings, spent).find((b) => b.period === period);
  if (!found) return `${(period === 'day' ? spent.dayUsd : spent.monthUsd).toFixed(2)} USD (no budget)`;
  return `${found.spentUsd.toFixed(2)} of ${found.budgetUsd} USD (${Math.round((100 * found.spentUsd) / found.budgetUsd)} %)`;
}

/** The settings' fields by the flag an operator typed. */
const setFlags: Record<string, string> = {
  weight: '--weight',
  priority: '--priority',
  maxRunning: '--max-running',
  maxRunningPerAgent: '--max-running-per-agent',
  dailyBudgetUsd: '--daily-budget-usd',
  monthlyBudgetUsd: '--monthly-budget-usd',
  overBudget: '--over-budget',
};

interface SetOptions {
  weight?: number;
  priority?: number;
  maxRunning?: number | 'none';
  maxRunningPerAgent?: number | 'none';
  dailyBudgetUsd?: number | 'none';
  monthlyBudgetUsd?: number | 'none';
  overBudget?: string;
}

export function addTenantsCommands(program: Command): void {
  const tenants = program
    .command('tenants')
    .description("the teams that share Lifeline: each one's share of busy agents, its limits and its budgets");

  tenants
    .command('set')
    .description("change a tenant's settings; the others keep their values. Applies from the next admission and slot try, with no restart")
    .argument('<name>', 'tenant name: a-z, 0-9, _ and -, at most 63')
    .option('--weight <n>', 'its share of a busy agent against other waiting tenants (0.01-1000, default 1)', decimal)
    .option('--priority <1-5>', 'every waiting run of a better priority goes first (1 first, default 3)', decimal)
    .option('--max-running <n|none>', `runs it may hold at once across all agents (1-${tenantLimits.maxRuns})`, numberOrNone)
    .option('--max-running-per-agent <n|none>', `runs it may hold at once on any one agent (1-${tenantLimits.maxRuns})`, numberOrNone)
    .option(
      '--daily-budget-usd <usd|none>',
      `what it may spend per UTC day (above 0, at most ${tenantLimits.maxUsd}); past it, no new run is admitted`,
      numberOrNone,
    )
    .option(
      '--monthly-budget-usd <usd|none>',
      `what it may spend per UTC month (above 0, at most ${tenantLimits.maxUsd}); past it, no new run is admitted`,
      numberOrNone,
    )
    .option('--over-budget <stop|finish>', 'its runs in flight once a budget is spent: stopped (default), or left to finish')
    .action((name: string, opts: SetOptions) =>
      withCliContext(async (ctx) => {
        const parsed = tenantChangeSchema.safeParse(Object.fromEntries(Object.entries(opts).map(([k, v]) => [k, v === 'none' ? null : v])));
        if (!parsed.success) {
          throw new UsageError(
            `invalid tenant settings: ${parsed.error.issues.map((i) => `${setFlags[i.path.join('.')] ?? i.path.join('.')}: ${i.message}`).join('; ')}`,
          );
        }
        if (Object.keys(parsed.data).length === 0) throw new UsageError('nothing to set: give at least one option (see --help)');
        const saved = await createTenantStore(ctx.pool()).set(tenantName(name), parsed.data);
        console.log(
          `tenant ${saved.name} saved: weight ${saved.weight}, priority ${saved.priority}, max running ${orNone(saved.maxRunning)}` +
            ` (${orNone(saved.maxRunningPerAgent)} per agent), budgets ${orNone(saved.dailyBudgetUsd, ' USD')} a day,` +
            ` ${orNone(saved.monthlyBudgetUsd, ' USD')} a month, over budget: ${saved.overBudget}`,
        );
      }),
    );

  tenants
    .command('show')
    .description("one tenant's settings, the slots it holds and what it spent this UTC day and month")
    .argument('<name>', 'tenant name')
    .option('--json', 'print JSON')
    .action((name: string, opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const settings = await createTenantStore(ctx.pool()).get(tenantName(name));
        const use = (await createTenantSpend(ctx.pool()).use([settings.name])).get(settings.name);
        if (opts.json) return printJson({ ...settings, use });
        printFields([
          ['tenant', settings.name],
          ['weight', settings.weight],
          ['priority', settings.priority],
          ['holding', `${use?.holding ?? 0} of ${orNone(settings.maxRunning)} (per agent: ${orNone(settings.maxRunningPerAgent)})`],
          ['spent today', spendText(settings, use, 'day')],
          ['spent this month', spendText(settings, use, 'month')],
          ['over budget', settings.overBudget],
        ]);
      }),
    );

  tenants
    .command('list')
    .description('every tenant with settings or runs this month, with what it holds and spent')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const set = await createTenantStore(ctx.pool()).list();
        const use = await createTenantSpend(ctx.pool()).use();
        const names = [...new Set([...set.map((t) => t.name), ...use.keys()])].sort();
        const all = names.map((n) => set.find((t) => t.name === n) ?? defaultTenantSettings(n));
        if (opts.json) return printJson(all.map((t) => ({ ...t, use: use.get(t.name) ?? null })));
        printTable(
          ['tenant', 'weight', 'priority', 'holding', 'max running', 'per agent', 'today', 'this month', 'over budget'],
          all.map((t) => [
            t.name,
            String(t.weight),
            String(t.priority),
            String(use.get(t.name)?.holding ?? 0),
            orNone(t.maxRunning),
            orNone(t.maxRunningPerAgent),
            spendText(t, use.get(t.name), 'day'),
            spendText(t, use.get(t.name), 'month'),
            t.overBudget,
          ]),
        );
      }),
    );
}
