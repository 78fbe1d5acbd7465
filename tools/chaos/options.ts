import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { wholeNumber } from '../../src/cli/option-parsers.js';

export interface ChaosOptions {
  executions: number;
  workers: number;
  /** Workers SIGKILLed (each replaced by a fresh one). */
  kills: number;
  /** Rolling deploys: every worker restarted gracefully in turn, a fresh one started first. */
  rollingDeploys: number;
  /** Rollouts of changed workflow code under Worker Versioning (0 or 1). */
  codeChanges: number;
  /** Restarts of the private Temporal dev server, its state kept on disk. */
  temporalRestarts: number;
  agentServerRestarts: number;
  /** Restarts of the Sentinel set's master, which comes back empty (as a replica if it was failed over meanwhile). */
  redisRestarts: number;
  /** Sentinel failovers: `SENTINEL FAILOVER` and a SIGKILL of the master, in turn. */
  redisFailovers: number;
  /** `FLUSHALL` on the master: Lifeline must rebuild its leases from Postgres. */
  redisFlushes: number;
  postgresRestarts: number;
  /** Executions cancelled through Temporal (as Cancel in the Temporal UI does). */
  cancels: number;
  /** Workflows terminated directly, which only the reconciler can finalize. */
  terminations: number;
  seed: number;
  /** Executions are submitted over this many seconds, and the faults land in the same window. */
  submitSeconds: number;
  /** How long to wait, after the last submission, for every execution and process to settle. */
  deadlineSeconds: number;
  /** Where the JSON result goes; none is written when absent. */
  jsonOut: string | undefined;
  /** Keep the run's directory (server, worker and agent logs) even when nothing was violated. */
  keepLogs: boolean;
  /** An existing Temporal server to use instead of a private dev server. */
  temporalAddress: string | undefined;
  /** The private Temporal: the CLI's dev server, or a real temporal-server on the run's Postgres with mutual TLS. */
  temporal: 'dev' | 'server';
  /** A prebuilt workflow bundle for the workers; built once per run when absent. */
  workflowBundlePath: string | undefined;
}

const resultsDir = 'chaos-results';

/** The options given (an undefined one counts as not given) over the defaults: 300 executions, five worker kills, one restart of each server. */
export function chaosOptions(options: Partial<ChaosOptions> = {}): ChaosOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<ChaosOptions>;
  const executions = given.executions ?? 300;
  const seed = given.seed ?? randomInt(1, 2 ** 31);
  return {
    executions,
    workers: 3,
    kills: 5,
    rollingDeploys: 2,
    codeChanges: 1,
    // A server the run did not start is not the run's to restart.
    temporalRestarts: given.temporalAddress ? 0 : 1,
    agentServerRestarts: 1,
    redisRestarts: 1,
    redisFailovers: 1,
    redisFlushes: 1,
    postgresRestarts: 1,
    cancels: Math.max(2, Math.round(executions / 30)),
    terminations: Math.max(2, Math.round(executions / 50)),
    submitSeconds: Math.max(20, Math.round(executions * 0.5)),
    deadlineSeconds: 240,
    jsonOut: undefined,
    keepLogs: false,
    temporalAddress: undefined,
    temporal: 'dev',
    workflowBundlePath: undefined,
    ...given,
    seed,
  };
}

function atLeast(min: number) {
  return (value: string): number => {
    const n = wholeNumber(value);
    if (n < min) throw new InvalidArgumentError(`must be at least ${min}`);
    return n;
  };
}

function atMost(max: number) {
  return (value: string): number => {
    const n = wholeNumber(value);
    if (n > max) throw new InvalidArgumentError(`must be at most ${max}`);
    return n;
  };
}

/** `npm run chaos -- [options]`: the options given on the command line, over the defaults. */
export function parseChaosArgs(argv: string[]): ChaosOptions {
  const program = new Command('chaos')
    .description(
      'Runs many agent executions on a private Lifeline stack while killing workers, deploying them (rolling ' +
        'restarts and a rollout of changed workflow code), restarting the agent server, Redis (a Sentinel ' +
        'set: restarts, failovers, FLUSHALL), Postgres and ' +
        'Temporal, cancelling and terminating executions; then checks that every execution ended correctly and ' +
        'nothing leaked. Exits 1 on any violation.',
    )
    .option('--executions <n>', 'executions to run (default 300)', atLeast(1))
    .option('--workers <n>', 'worker processes (default 3)', atLeast(2))
    .option('--kills <n>', 'workers to SIGKILL and replace (default 5)', wholeNumber)
    .option('--rolling-deploys <n>', 'rolling deploys: every worker restarted gracefully in turn (default 2)', wholeNumber)
    .option('--code-changes <n>', 'rollouts of changed workflow code under Worker Versioning, 0 or 1 (default 1)', atMost(1))
    .option(
      '--temporal-restarts <n>',
      'restarts of the private Temporal server, state kept (default 1; 0 with --temporal-address)',
      wholeNumber,
    )
    .option('--agent-server-restarts <n>', 'agent server restarts (default 1)', wholeNumber)
    .option('--redis-restarts <n>', 'restarts of the Redis master, which comes back empty (default 1)', wholeNumber)
    .option(
      '--redis-failovers <n>',
      'Sentinel failovers of Redis, SENTINEL FAILOVER and a SIGKILL of the master in turn (default 1)',
      wholeNumber,
    )
    .option('--redis-flushes <n>', 'FLUSHALLs on the Redis master (default 1)', wholeNumber)
    .option('--postgres-restarts <n>', 'Postgres restarts (default 1)', wholeNumber)
    .option('--cancels <n>', 'executions to cancel through Temporal (default executions/30)', wholeNumber)
    .option('--terminations <n>', 'workflows to terminate (default executions/50)', wholeNumber)
    .option('--seed <n>', 'seed of the plan and fault schedule (default random; printed)', atLeast(1))
    .option('--submit-seconds <n>', 'window over which executions are submitted (default executions/2)', atLeast(5))
    .option('--deadline-seconds <n>', 'longest wait for quiescence after the last submission (default 240)', atLeast(10))
    .option('--json-out <path>', `JSON result (default ${resultsDir}/chaos-<time>-seed-<seed>.json)`)
    .option('--keep-logs', 'keep the run directory with every log, even without violations')
    .option(
      '--temporal <kind>',
      'the private Temporal: dev (the CLI dev server) or server (a real temporal-server on Postgres with mutual TLS, built once into ~/.cache); its restarts restart the frontend (default dev)',
      (value: string) => {
        if (value !== 'dev' && value !== 'server') throw new InvalidArgumentError('must be dev or server');
        return value;
      },
    )
    .exitOverride();
  program.parse(argv);
  const options = chaosOptions(program.opts<Partial<ChaosOptions>>());
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return { ...options, jsonOut: options.jsonOut ?? join(resultsDir, `chaos-${stamp}-seed-${options.seed}.json`) };
}
