import type { Command } from 'commander';
import { waitUntil } from '../util/wait-until.js';
import { polledBuilds, versionKey } from '../reconciler/polled-builds.js';
import { deploymentBuilds, rampBuild, setCurrentBuild, type BuildStatus } from '../temporal-api/worker-deployment.js';
import { withCliContext, type CliContext } from './cli-context.js';
import { UsageError } from './cli-errors.js';
import { ageInSeconds, wholeNumber } from './option-parsers.js';
import { printJson, printTable, time } from './output.js';

const advice: Record<string, string> = {
  current: 'new executions start here',
  ramping: 'takes a share of new executions',
  draining: 'pinned executions still open: keep its workers',
  drained: 'no open execution: its workers can stop',
  inactive: 'never current',
};

/** The validated LIFELINE_DEPLOYMENT_NAME: the CLI reads it whether or not it polls as a build itself. */
const deploymentName = (ctx: CliContext): string => ctx.config.deploymentName;

async function builds(ctx: CliContext): Promise<BuildStatus[]> {
  return deploymentBuilds(await ctx.temporal(), deploymentName(ctx));
}

/** Each build with whether workers poll it now (Lifeline's task queue), and when they last did. */
async function buildsWithWorkers(ctx: CliContext) {
  const [list, polled] = await Promise.all([
    builds(ctx),
    ctx.temporal().then((t) =>
      polledBuilds({
        workflows: t.workflow,
        taskQueue: ctx.config.temporal.taskQueue,
        clock: Date.now,
        workerGoneSeconds: ctx.config.reconciler.workerGoneSeconds,
      }),
    ),
  ]);
  return list.map((b) => {
    const key = versionKey(deploymentName(ctx), b.buildId);
    return { ...b, workers: polled.alive.has(key) ? ('polling' as const) : ('none' as const), lastPollAt: polled.lastPoll.get(key) };
  });
}

async function knownBuild(ctx: CliContext, buildId: string): Promise<void> {
  if (!(await builds(ctx)).some((b) => b.buildId === buildId)) {
    throw new UsageError(
      `build ${buildId} is not a build of deployment ${deploymentName(ctx)}: start its workers first (see \`lifeline deploy status\`)`,
    );
  }
}

/** `lifeline deploy`: the rollout of a new build under Worker Versioning (docs/operations.md: Rollouts with Worker Versioning). */
export function addDeployCommands(program: Command): void {
  const deploy = program
    .command('deploy')
    .description('roll out a new build of the workers (Worker Versioning: LIFELINE_WORKER_VERSIONING=on)');

  deploy
    .command('status')
    .description("the deployment's builds: current, ramping, draining (keep their workers) or drained (stop them)")
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withCliContext(async (ctx) => {
        const list = await buildsWithWorkers(ctx);
        if (opts.json) return printJson({ deployment: deploymentName(ctx), builds: list });
        if (list.length === 0) return console.log(`deployment ${deploymentName(ctx)} has no builds yet: no versioned worker has polled`);
        printTable(
          ['build', 'status', 'workers', 'created', ''],
          list.map((b) => [
            b.buildId,
            b.rampingPercent !== undefined ? `ramping ${b.rampingPercent}%` : b.status,
            b.workers === 'polling' ? 'polling' : `none${b.lastPollAt ? ` since ${time(b.lastPollAt)}` : ''}`,
            time(b.createdAt),
            b.workers === 'none' && ['current', 'ramping', 'draining'].includes(b.status)
              ? 'no workers: its executions wait (start its workers, or set another build current)'
              : (advice[b.status] ?? ''),
          ]),
        );
      }),
    );

  deploy
    .command('set-current')
    .description('new executions start on this build from now on; running ones stay on theirs')
    .argument('<build>', 'build id (see `lifeline deploy status`)')
    .action((buildId: string) =>
      withCliContext(async (ctx) => {
        await knownBuild(ctx, buildId);
        await setCurrentBuild(await ctx.temporal(), deploymentName(ctx), buildId, 'lifeline-cli');
        console.log(
          `build ${buildId} is current: new executions start on it; \`lifeline deploy status\` shows when the old build is drained`,
        );
      }),
    );

  deploy
    .command('ramp')
    .description('send a share of new executions to this build, the rest to the current one')
    .argument('<build>', 'build id')
    .argument('<percent>', 'share of new executions, 0 to 100', wholeNumber)
    .action((buildId: string, percent: number) =>
      withCliContext(async (ctx) => {
        if (percent > 100) throw new UsageError(`percent: must be 0 to 100, got ${percent}`);
        await knownBuild(ctx, buildId);
        await rampBuild(await ctx.temporal(), deploymentName(ctx), buildId, percent, 'lifeline-cli');
        console.log(`build ${buildId} takes ${percent}% of new executions`);
      }),
    );

  deploy
    .command('wait-drained')
    .description('waits until no open execution is pinned to the build; exits 0 then, 1 when the time runs out')
    .argument('<build>', 'build id')
    .option('--timeout <age>', 'how long to wait: 90s, 30m, 2h', ageInSeconds, 3600)
    .action((buildId: string, opts: { timeout: number }) =>
      withCliContext(async (ctx) => {
        await knownBuild(ctx, buildId);
        await waitUntil(async () => (await builds(ctx)).find((b) => b.buildId === buildId && b.status === 'drained'), {
          what: `build ${buildId} to drain`,
          timeoutMs: opts.timeout * 1000,
          intervalMs: 2000,
        });
        console.log(`build ${buildId} is drained: its workers can stop`);
      }),
    );
}
