import type { Command } from 'commander';
import type { BusyPolicy } from '../domain/execution-types.js';
import { scheduleLimits, type CreateScheduleRequest, type OverlapPolicy } from '../client/schedule-input.js';
import type { AgentScheduleDescription, AgentScheduleSummary } from '../client/schedule-view.js';
import { withCliContext } from './cli-context.js';
import { inFlagTerms, requestFlags } from './flag-names.js';
import { idleTimeoutOption, maxCostUsdOption, textUpTo, timeoutOption, wholeNumber } from './option-parsers.js';
import { limits } from '../contract/start-execution-schema.js';
import { printFields, printJson, printTable, time } from './output.js';

const when = (s: AgentScheduleSummary) => (s.cron === undefined ? `every ${s.intervalSeconds} s` : `cron ${s.cron}`);

function printDescription(d: AgentScheduleDescription): void {
  printFields([
    ['schedule', d.scheduleId],
    ['agent', d.agent],
    ['tenant', d.tenant],
    ['when', `${when(d)} (${d.timezone})`],
    ['state', d.paused ? 'paused' : 'active'],
    ['note', d.note],
    ['prompt', d.prompt],
    ['timeout', d.timeoutSeconds ? `${d.timeoutSeconds} s` : 'agent default'],
    ['busy policy', d.busyPolicy],
    ['idle timeout', d.idleTimeoutSeconds ? `${d.idleTimeoutSeconds} s` : 'off'],
    ['budget', d.maxCostUsd !== undefined ? `${d.maxCostUsd} USD` : 'none'],
    ['overlap', d.overlap],
    ['task queue', d.taskQueue],
    ['fires', d.fireCount],
    ['skipped (overlap)', d.skippedOverlapCount],
    ['running', d.runningExecutionIds.join(', ')],
    ['next fires', d.nextFireTimes.slice(0, 3).map(time).join(', ')],
    ['created', time(d.createdAt)],
  ]);
  console.log('\nrecent fires:');
  printTable(
    ['scheduled', 'execution'],
    d.recentFires.map((f) => [time(f.scheduledAt), f.executionId]),
  );
}

interface CreateOptions {
  agent: string;
  tenant?: string;
  prompt: string;
  cron?: string;
  interval?: number;
  timezone?: string;
  timeout?: number;
  idleTimeout?: number;
  maxCostUsd?: number;
  busyPolicy?: string;
  overlap?: string;
  paused?: boolean;
  note?: string;
}

export function addSchedulesCommands(program: Command): void {
  const schedules = program.command('schedules').description('Temporal Schedules that start executions of an agent');

  schedules
    .command('create')
    .description('create a schedule; each fire starts an execution with id <agent>-<schedule>-<fire time>')
    .argument('<id>', 'schedule id: 1-100 letters, digits and . _ -')
    .requiredOption('--agent <name>', 'agent to run on (lifeline agents list)')
    .option('--tenant <name>', 'the team its executions run for; a-z, 0-9, _ and -, at most 63 (default: default)')
    .requiredOption('--prompt <text>', `what the agent should do on each fire, at most ${limits.promptBytes / 1024} KiB`)
    .option('--cron <expression>', 'cron expression, such as "0 9 * * MON-FRI" (or --interval)')
    .option(
      '--interval <seconds>',
      'fire every this many seconds (or --cron), at least LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS (60 by default)',
      wholeNumber,
    )
    .option('--timezone <zone>', 'IANA time zone of the cron expression (default UTC)')
    .addOption(timeoutOption())
    .addOption(idleTimeoutOption())
    .addOption(maxCostUsdOption())
    .option('--busy-policy <policy>', 'when the agent is full: skip or queue (default queue)')
    .option('--overlap <policy>', 'when the previous fire still runs: skip (default), buffer_one, buffer_all, cancel_other, allow_all')
    .option('--paused', 'create it paused')
    .option('--note <text>', `a note shown with the schedule, at most ${scheduleLimits.noteLength} characters`)
    .action((id: string, opts: CreateOptions) =>
      withCliContext(async (ctx) => {
        // Passed as given: the schedule validation names each bad field.
        const request = {
          scheduleId: id,
          agent: opts.agent,
          tenant: opts.tenant,
          prompt: opts.prompt,
          cron: opts.cron,
          intervalSeconds: opts.interval,
          timezone: opts.timezone,
          timeoutSeconds: opts.timeout,
          idleTimeoutSeconds: opts.idleTimeout,
          maxCostUsd: opts.maxCostUsd,
          busyPolicy: opts.busyPolicy as BusyPolicy | undefined,
          overlap: opts.overlap as OverlapPolicy | undefined,
          paused: opts.paused,
          note: opts.note,
        } satisfies CreateScheduleRequest;
        const lifeline = await ctx.lifeline();
        await inFlagTerms('schedule', () => lifeline.schedules.create(request), { ...requestFlags, scheduleId: '<id>' });
        console.log(`schedule ${id} created${opts.paused ? ' (paused)' : ''}`);
      }),
    );

  schedules
    .command('list')
    .description("this task queue's agent schedules")
    .option('--agent <name>', 'only schedules of this agent')
    .option('--tenant <name>', 'only schedules of this tenant')
    .option('--json', 'print JSON')
    .action((opts: { agent?: string; tenant?: string; json?: boolean }) =>
      withCliContext(async (ctx) => {
        const list = await (await ctx.lifeline()).schedules.list({ agent: opts.agent, tenant: opts.tenant });
        if (opts.json) return printJson(list);
        printTable(
          ['schedule', 'agent', 'tenant', 'when', 'zone', 'state', 'next fire'],
          list.map((s) => [s.scheduleId, s.agent, s.tenant, when(s), s.timezone, s.paused ? 'paused' : 'active', time(s.nextFireTimes[0])]),
        );
      }),
    );

  schedules
    .command('describe')
    .description('one schedule: its definition, state and recent fires')
    .argument('<id>', 'schedule id')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const description = await (await ctx.lifeline()).schedules.describe(id);
        if (opts.json) printJson(description);
        else printDescription(description);
      }),
    );

  schedules
    .command('pause')
    .description('stop firing until unpaused')
    .argument('<id>', 'schedule id')
    .option(
      '--note <text>',
      `why (shown with the schedule; at most ${scheduleLimits.noteLength} characters)`,
      textUpTo(scheduleLimits.noteLength),
    )
    .action((id: string, opts: { note?: string }) =>
      withCliContext(async (ctx) => {
        await (await ctx.lifeline()).schedules.pause(id, opts.note);
        console.log(`schedule ${id} paused`);
      }),
    );

  schedules
    .command('unpause')
    .description('fire again')
    .argument('<id>', 'schedule id')
    .option(
      '--note <text>',
      `a note shown with the schedule (at most ${scheduleLimits.noteLength} characters)`,
      textUpTo(scheduleLimits.noteLength),
    )
    .action((id: string, opts: { note?: string }) =>
      withCliContext(async (ctx) => {
        await (await ctx.lifeline()).schedules.unpause(id, opts.note);
        console.log(`schedule ${id} unpaused`);
      }),
    );

  schedules
    .command('trigger')
    .description('fire once now, even if paused')
    .argument('<id>', 'schedule id')
    .action((id: string) =>
      withCliContext(async (ctx) => {
        await (await ctx.lifeline()).schedules.trigger(id);
        console.log(`schedule ${id} triggered`);
      }),
    );

  schedules
    .command('delete')
    .description('delete a schedule; executions it started run on')
    .argument('<id>', 'schedule id')
    .action((id: string) =>
      withCliContext(async (ctx) => {
        await (await ctx.lifeline()).schedules.delete(id);
        console.log(`schedule ${id} deleted`);
      }),
    );
}
