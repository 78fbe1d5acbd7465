import { defaultTenant } from '../domain/tenants.js';
import { createReadStream } from 'node:fs';
import { text } from 'node:stream/consumers';
import { Option, type Command } from 'commander';
import { ExecutionNotFoundError } from '../client/client-errors.js';
import type { LifelineClient, StopResult, UnadmittedExecution } from '../client/lifeline-client.js';
import { noWorkerPollingText } from '../temporal-api/task-queue-pollers.js';
import { executionStatuses, isTerminal, type ExecutionStatus } from '../domain/execution-status.js';
import type { BusyPolicy } from '../domain/execution-types.js';
import { createExecutionReader, type ExecutionRow, type TransitionRecord } from '../store/execution-reader.js';
import { currentBuildsWithoutWorkers } from '../reconciler/current-build.js';
import { listStuckExecutions, strandedBuildProblem, workflowTaskProblem, type StuckSources } from '../reconciler/stuck-executions.js';
import { maxDescribedForProblems } from '../reconciler/reported-problems.js';
import {
  defaultStopAlertSeconds,
  stoppingHold,
  stoppingHoldText,
  stopsKeepFailing,
  type StoppingHold,
} from '../reconciler/stopping-holds.js';
import { createSlotHoldStore } from '../store/slot-holds.js';
import { withCliContext, type CliContext } from './cli-context.js';
import { printExecutionLogs } from './execution-logs.js';
import { UsageError } from './cli-errors.js';
import { ageInSeconds, idleTimeoutOption, maxCostUsdOption, positiveLimit, timeoutOption } from './option-parsers.js';
import { printFields, printJson, printTable, time } from './output.js';
import { costText, usageText } from './usage-text.js';
import { visible } from './visible-text.js';
import { inFlagTerms } from './flag-names.js';
import { limits } from '../contract/start-execution-schema.js';

/** The Temporal UI page of an execution's workflow (execution ids use only URL-safe characters). */
function workflowLink(ctx: CliContext, executionId: string): string | undefined {
  const { uiUrl, namespace } = ctx.config.temporal;
  return uiUrl ? `${uiUrl}/namespaces/${namespace}/workflows/${executionId}` : undefined;
}

/** Reads only: the row's writers are the workflow and the reconciler (and `stop`, through the client, for an execution no worker picked up). */
const readStore = (ctx: CliContext) => createExecutionReader(ctx.pool());

function printExecution(
  row: ExecutionRow,
  transitions: TransitionRecord[],
  link: string | undefined,
  problem: string | undefined,
  slotHold?: StoppingHold,
  traceUrl?: string,
): void {
  printFields([
    ['id', row.id],
    ['agent', row.agent],
    ['tenant', row.tenant],
    ['status', statusText(row)],
    ['problem', problem],
    ['capacity slot', slotHold && stoppingHoldText(slotHold, time)],
    ['error kind', row.errorKind],
    ['error', row.error],
    ['exit code', row.exitCode],
    ['trigger', row.trigger],
    ['schedule', row.scheduleId],
    ['busy policy', row.busyPolicy],
    ['timeout', `${row.timeoutSeconds} s`],
    ['idle timeout', row.idleTimeoutSeconds && `${row.idleTimeoutSeconds} s without progress stops the run`],
    ['last progress', row.lastProgressAt && time(row.lastProgressAt)],
    ['budget', row.maxCostUsd && `${row.maxCostUsd} USD`],
    ['usage', usageText(row.usage)],
    ['created', time(row.createdAt)],
    [
      'slot acquired',
      row.slotAcquiredAt &&
        `${time(row.slotAcquiredAt)}${row.status === 'queued' && !row.startSentAt ? ' (admitted; waiting for a worker to start it)' : ''}`,
    ],
    ['started', row.startedAt && time(row.startedAt)],
    ['finished', row.finishedAt && time(row.finishedAt)],
    ['temporal ui', link ?? '(set LIFELINE_TEMPORAL_UI_URL for a link)'],
    ['trace', row.traceId && (traceUrl ? `${row.traceId}  ${traceUrl.replaceAll('{traceId}', row.traceId)}` : row.traceId)],
    ['prompt', row.prompt],
  ]);
  console.log('\ntransitions:');
  printTable(
    ['at', 'from', 'to', 'actor', 'reason'],
    transitions.map((t) => [time(t.at), t.fromStatus ?? '-', t.toStatus, t.actor, t.reason ?? '']),
  );
  if (row.output !== null) {
    console.log(`\noutput (${row.outputBytes ?? 0} bytes${outputExtent(row)}):`);
    console.log(visible(row.output));
  }
}

/**
 * A queued row whose start a worker has sent, and the agent not yet accepted, is `starting`: the
 * row's status stays `queued` (the state machine and every client see that), the CLI says what it is.
 */
function shownStatus(row: Pick<ExecutionRow, 'status' | 'startSentAt'>): string {
  return row.status === 'queued' && row.startSentAt ? 'starting' : row.status;
}

function statusText(row: ExecutionRow): string {
  if (shownStatus(row) !== 'starting') return row.status;
  return `starting (a worker sent the agent the start at ${time(row.startSentAt)}; the agent has not accepted it yet)`;
}

/** A running row holds the end of the output so far; a finished one its start, capped. */
function outputExtent(row: ExecutionRow): string {
  if (isTerminal(row.status)) return row.outputTruncated ? ', truncated' : '';
  return row.outputTruncated ? ' so far; the last of them' : ' so far';
}

/** Where the CLI looks for stuck executions: Lifeline's Temporal, its rows and its task queue. */
async function stuckSources(ctx: CliContext): Promise<StuckSources> {
  return {
    workflows: (await ctx.temporal()).workflow,
    executions: readStore(ctx),
    taskQueue: ctx.config.temporal.taskQueue,
    clock: Date.now,
    workerGoneSeconds: ctx.config.reconciler.workerGoneSeconds,
  };
}

/** A live execution's problem (a failing workflow task, or a build no worker polls), if it has one; Temporal being away must not hide the row. */
async function problemOf(ctx: CliContext, row: ExecutionRow): Promise<string | undefined> {
  if (isTerminal(row.status)) return undefined;
  const runbook = '(see docs/operations.md, Stuck executions)';
  try {
    const sources = await stuckSources(ctx);
    const problem = await workflowTaskProblem(sources.workflows, row.id);
    if (problem)
      return `stuck: its workflow task failed ${problem.attempts} times in a row${problem.since ? ` since ${time(problem.since)}` : ''}: ${problem.lastFailure ?? 'cause unknown'} ${runbook}`;
    const stranded = await strandedBuildProblem(sources, row.id);
    return stranded && `stuck: ${stranded.cause} ${runbook}`;
  } catch (err) {
    return `unknown: Temporal could not be asked (${(err as Error).message})`;
  }
}

/** An ended execution whose workflow still holds its slot while it stops the process, with the stop's attempt. */
async function slotHoldOf(ctx: CliContext, row: ExecutionRow): Promise<StoppingHold | undefined> {
  if (!isTerminal(row.status)) return undefined;
  const hold = await createSlotHoldStore(ctx.pool()).slotHold(row.id);
  if (!hold) return undefined;
  const workflows = await ctx
    .temporal()
    .then((t) => t.workflow)
    .catch(() => undefined);
  return workflows ? stoppingHold(workflows, hold) : { ...hold, unknown: 'Temporal could not be reached' };
}

/** What `show` says of an execution without a row, by where its workflow is. */
const unadmittedStatus: Record<UnadmittedExecution['state'], string> = {
  not_picked_up: 'not yet picked up by any worker (no row yet)',
  being_picked_up: 'being picked up by a worker (its row follows)',
  picked_up: 'picked up by a worker (its row follows)',
  closed_before_pickup: 'ended before any worker picked it up (the reconciler records its terminal row)',
};

/** An execution that has no row yet, as Temporal knows it: accepted, but no worker admitted it. */
function printUnadmitted(execution: UnadmittedExecution, link: string | undefined): void {
  const { input } = execution;
  printFields([
    ['id', execution.executionId],
    ['agent', input?.agent],
    ['tenant', input && (input.tenant ?? defaultTenant)],
    ['status', unadmittedStatus[execution.state]],
    ['problem', execution.problem && `stuck: ${execution.problem} (see docs/operations.md, Stuck executions)`],
    ['task queue', execution.taskQueue],
    ['workers', execution.workers && `${execution.workers.alive} polling`],
    ['workflow', execution.status],
    ['trigger', input?.trigger],
    ['schedule', input?.scheduleId],
    ['busy policy', input?.busyPolicy],
    ['timeout', input && (input.timeoutSeconds ? `${input.timeoutSeconds} s` : "the agent's default")],
    ['accepted', time(execution.startedAt)],
    ['closed', execution.closedAt && time(execution.closedAt)],
    ['temporal ui', link ?? '(set LIFELINE_TEMPORAL_UI_URL for a link)'],
    ['input error', execution.inputError],
    ['prompt', input?.prompt],
  ]);
}

async function show(ctx: CliContext, executionId: string, json: boolean): Promise<ExecutionRow | undefined> {
  const store = readStore(ctx);
  const row = await store.get(executionId);
  if (!row) {
    // No row: no worker has admitted it (yet). Temporal still knows it from the moment it was accepted.
    const unadmitted = await (await ctx.lifeline()).getUnadmittedExecution(executionId);
    if (!unadmitted) throw new ExecutionNotFoundError(`execution ${executionId} not found`);
    const link = workflowLink(ctx, executionId);
    if (json) printJson({ execution: null, unadmitted, transitions: [], temporalUiUrl: link ?? null, problem: unadmitted.problem ?? null });
    else printUnadmitted(unadmitted, link);
    return undefined;
  }
  const transitions = await store.transitions(executionId);
  const link = workflowLink(ctx, executionId);
  const problem = await problemOf(ctx, row);
  const slotHold = await slotHoldOf(ctx, row);
  if (json) printJson({ execution: row, transitions, temporalUiUrl: link ?? null, problem: problem ?? null, slotHold: slotHold ?? null });
  else printExecution(row, transitions, link, problem, slotHold, ctx.config.traceUrl);
  return row;
}

/** The prompt from --prompt or --prompt-file (a path, or - for standard input); exactly one of them. */
async function promptOf(opts: { prompt?: string; promptFile?: string }): Promise<string> {
  if ((opts.prompt === undefined) === (opts.promptFile === undefined))
    throw new UsageError('give the prompt with --prompt or --prompt-file (one of them)');
  if (opts.prompt !== undefined) return opts.prompt;
  const from = opts.promptFile === '-' ? process.stdin : createReadStream(opts.promptFile!);
  try {
    return await text(from);
  } catch (err) {
    throw new UsageError(`--prompt-file: cannot read ${opts.promptFile}: ${(err as Error).message}`);
  }
}

export function addExecutionsCommands(program: Command): void {
  const executions = program.command('executions').description('list, inspect, start and stop agent executions');

  executions
    .command('list')
    .description('executions, newest first')
    .option('--agent <name>', 'only this agent')
    .option('--tenant <name>', 'only executions of this tenant')
    .addOption(new Option('--status <status>', 'only this status').choices(executionStatuses))
    .option('--schedule <id>', 'only executions started by this schedule')
    .option('--since <age>', 'only executions created within this age: 90s, 30m, 1h, 2d', ageInSeconds)
    .option('--limit <n>', 'at most this many (1-1000)', positiveLimit(1000), 50)
    .option('--json', 'print JSON')
    .action(
      (opts: {
        agent?: string;
        tenant?: string;
        status?: ExecutionStatus;
        schedule?: string;
        since?: number;
        limit: number;
        json?: boolean;
      }) =>
        withCliContext(async (ctx) => {
          const rows = await readStore(ctx).list({
            agent: opts.agent,
            tenant: opts.tenant,
            status: opts.status,
            scheduleId: opts.schedule,
            sinceSeconds: opts.since,
            limit: opts.limit,
          });
          if (opts.json) return printJson(rows);
          printTable(
            ['id', 'agent', 'tenant', 'status', 'trigger', 'created', 'finished', 'error kind', 'cost'],
            rows.map((r) => [
              r.id,
              r.agent,
              r.tenant,
              shownStatus(r),
              r.trigger,
              time(r.createdAt),
              time(r.finishedAt),
              r.errorKind ?? '',
              costText(r.usage),
            ]),
          );
        }),
    );

  executions
    .command('show')
    .description('one execution: its row, its audit trail and its Temporal UI link')
    .argument('<id>', 'execution id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withCliContext((ctx) => show(ctx, id, opts.json === true));
    });

  executions
    .command('logs')
    .description(
      "an execution's output: while it runs, the last 64 KiB so far (copied into its row every few seconds); once it ended, what was kept",
    )
    .argument('<id>', 'execution id')
    .option('--follow', 'then print new output as it comes, until the execution ends')
    .option('--raw', "print the output's bytes as they are, escape sequences included (by default they are shown as \\x1b, \\u202e...)")
    .action((id: string, opts: { follow?: boolean; raw?: boolean }) =>
      withCliContext((ctx) => printExecutionLogs(readStore(ctx), id, { follow: opts.follow === true, raw: opts.raw === true })),
    );

  executions
    .command('problems')
    .description(
      'executions whose workflow cannot make progress (its workflow task keeps failing, no worker polls its build, or no worker polls its task queue), with the cause',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const sources = await stuckSources(ctx);
        const { stuck, reportedProblems } = await listStuckExecutions(sources);
        if (!reportedProblems)
          console.error(
            `note: this Temporal server has no TemporalReportedProblems: failing workflow tasks were looked for among the ${maxDescribedForProblems} newest running executions only`,
          );
        const idleBuilds = await currentBuildsWithoutWorkers(sources);
        const stopAlertSeconds = ctx.config.reconciler.stopAlertSeconds ?? defaultStopAlertSeconds;
        const stops = await stopsKeepFailing(
          { workflows: sources.workflows, holds: () => createSlotHoldStore(ctx.pool()).slotHolds(), clock: Date.now },
          stopAlertSeconds,
        );
        if (opts.json) return printJson({ stuck, stopsFailing: stops, currentBuildsWithoutWorkers: idleBuilds });
        // New executions waiting for a current build without workers have no row to list: said first.
        for (const { deployment, build, buildsWithWorkers } of idleBuilds) {
          console.log(
            `deployment ${deployment}: its current build ${build} has no workers, so new executions wait` +
              ` (builds with workers: ${buildsWithWorkers.join(', ') || 'none'}; see lifeline deploy status)`,
          );
        }
        if (stops.length > 0) {
          console.log(`stops failing for ${stopAlertSeconds} s or more (each holds a capacity slot until its process is gone):`);
          printTable(
            ['id', 'agent', 'attempt', 'since', 'last failure'],
            stops.map((s) => [s.executionId, s.agent, String(s.attempt ?? '?'), time(s.since), s.lastFailure ?? s.unknown ?? '']),
          );
          console.log('');
        }
        if (stuck.length === 0) return console.log('no stuck executions');
        printTable(
          ['id', 'agent', 'row status', 'reason', 'attempts', 'since', 'cause'],
          stuck.map((s) => [
            s.executionId,
            s.agent ?? '?',
            s.rowStatus ?? '(no row)',
            s.reason,
            String(s.attempts ?? ''),
            time(s.since),
            s.cause,
          ]),
        );
      }),
    );

  executions
    .command('start')
    .description('start an execution; prints its id (with --wait, exits 1 unless it succeeded)')
    .requiredOption('--agent <name>', 'agent to run on (lifeline agents list)')
    .option('--tenant <name>', 'the team it runs for: its share, limits and budgets; a-z, 0-9, _ and -, at most 63 (default: default)')
    .option(
      '--prompt <text>',
      `what the agent should do, at most ${limits.promptBytes / 1024} KiB (the demo agents: succeed [seconds] [text], progress [seconds], fail [code], hang, spend [usd], charge [usd], ignore-term, big-output [MB], crash)`,
    )
    .option(
      '--prompt-file <path>',
      "read the prompt from a file, or from standard input with -: for prompts beyond the shell's argument limit",
    )
    .addOption(timeoutOption())
    .addOption(idleTimeoutOption())
    .addOption(maxCostUsdOption())
    .option('--busy-policy <policy>', 'when the agent is full: skip (end as skipped) or queue (wait, the default)')
    .option(
      '--id <id>',
      'execution id, 1-200 letters, digits and . _ : @ - (default: <agent>-<time>-<random>); starting an id again never runs it twice',
    )
    .option('--wait', 'wait until it finishes and show it')
    .option('--json', 'print JSON')
    .action(
      (opts: {
        agent: string;
        tenant?: string;
        prompt?: string;
        promptFile?: string;
        timeout?: number;
        idleTimeout?: number;
        maxCostUsd?: number;
        busyPolicy?: string;
        id?: string;
        wait?: boolean;
        json?: boolean;
      }) =>
        withCliContext(async (ctx) => {
          const prompt = await promptOf(opts);
          const lifeline = await ctx.lifeline();
          const { executionId } = await inFlagTerms('execution', () =>
            lifeline.startExecution({
              agent: opts.agent,
              tenant: opts.tenant,
              prompt,
              timeoutSeconds: opts.timeout,
              idleTimeoutSeconds: opts.idleTimeout,
              maxCostUsd: opts.maxCostUsd,
              // Validated with the rest of the request, so a bad value is named like any other field.
              busyPolicy: opts.busyPolicy as BusyPolicy | undefined,
              executionId: opts.id,
              trigger: 'cli',
            }),
          );
          await warnWithoutWorkers(lifeline);
          if (!opts.wait) return opts.json ? printJson({ executionId }) : console.log(executionId);
          if (!opts.json) console.error(`${executionId} started; waiting for it to finish`);
          await lifeline.waitForExecution(executionId, Number.MAX_SAFE_INTEGER, { onWaiting: (message) => console.error(message) });
          const row = await show(ctx, executionId, opts.json === true);
          if (row?.status !== 'succeeded') process.exitCode = 1;
        }),
    );

  executions
    .command('stop')
    .description('stop a live execution: the agent process is stopped and the row ends cancelled with your reason')
    .argument('<id>', 'execution id')
    .requiredOption('--reason <text>', 'why; recorded in the row and the audit log (actor operator)')
    .action((id: string, opts: { reason: string }) =>
      withCliContext(async (ctx) => {
        if (!opts.reason.trim()) throw new UsageError('--reason must not be empty');
        const lifeline = await ctx.lifeline();
        console.log(stopText(id, await lifeline.stopExecution(id, opts.reason)));
      }),
    );
}

/** What a stop did, in words. */
function stopText(id: string, result: StopResult): string {
  switch (result.outcome) {
    case 'already_finished':
      return `${id} already finished as ${result.status}; nothing to stop`;
    case 'stop_requested':
      return `stop requested for ${id}; \`lifeline executions show ${id}\` shows when it has ended`;
    case 'terminated_before_pickup':
      return `${id} stopped: no worker had picked it up from task queue ${result.taskQueue}, so its workflow was terminated; its row ends cancelled`;
    case 'closed_before_pickup':
      return `${id} already ended (${result.workflowStatus}) before any worker picked it up; nothing to stop (the reconciler records its row)`;
  }
}

/**
 * The execution is accepted whatever the workers do, so the start still succeeds; but with no
 * worker polling its task queue it waits without a trace but this. Temporal being unsure says nothing.
 */
async function warnWithoutWorkers(lifeline: LifelineClient): Promise<void> {
  const workers = await lifeline.workersOnTaskQueue().catch(() => undefined);
  if (workers && workers.alive === 0) console.error(`warning: ${noWorkerPollingText(workers)}; the execution waits until one does`);
}
