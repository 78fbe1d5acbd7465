import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowCoverage } from '@temporalio/nyc-test-coverage';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import libCoverage from 'istanbul-lib-coverage';
import { parseCodecKeys } from '../../src/config/codec-keys.js';
import { dataConverterOptions } from '../../src/payload-codec/data-converter.js';
import { EncryptionCodec } from '../../src/payload-codec/encryption-codec.js';
import { executionWorkerOptions } from '../../src/testing/test-worker.js';
import { scriptedActivities, type ActivityScript, type ScriptedActivities } from '../../src/testing/scripted-activities.js';
import { createTimeSkippingEnvironment } from '../../src/testing/test-environment.js';
import { workflowsPath } from '../../src/temporal/workflows-path.js';
import { silentLogger } from '../../src/util/logger.js';
import { agentExecution } from '../../src/workflows/agent-execution.js';
import type { RecordedHistory } from './recorded-histories.js';
import { stopSignal, type ExecutionInput, type ExecutionResult } from '../../src/contract/execution-contract.js';
import { workerTracingOptions, workflowInterceptorModules } from '../../src/tracing/worker-tracing.js';

/** The keys of a fixture's `codec-keys.txt`; a broken fixture fails loudly. */
function codecKeysFrom(text: string) {
  const parsed = parseCodecKeys(text);
  if ('problems' in parsed) throw new Error(`fixture codec-keys.txt: ${parsed.problems.join('; ')}`);
  return parsed.keys;
}

/** What one workflow run under test ended with. */
export interface WorkflowRun {
  scripted: ScriptedActivities;
  handle: WorkflowHandle<typeof agentExecution>;
  result?: ExecutionResult;
  error?: unknown;
  wallMs: number;
}

/**
 * The execution workflow on Temporal's time-skipping test server with scripted activities, its
 * bundle instrumented for coverage once per file. Each run gets its own task queue and worker.
 */
export async function startWorkflowRunner() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // WorkflowCoverage instruments only under a coverage run (nyc sets this global); the runner collects its own maps.
  (globalThis as { __coverage__?: object }).__coverage__ ??= {};
  const coverage = new WorkflowCoverage();
  const env: TestWorkflowEnvironment = await createTimeSkippingEnvironment({ log: silentLogger() });
  const bundle: WorkflowBundle = await bundleWorkflowCode(
    coverage.augmentBundleOptions({ workflowsPath, workflowInterceptorModules, logger: new DefaultLogger('WARN', () => undefined) }),
  );

  return {
    env,
    coverage,
    /** Starts an execution on a fresh worker with these scripted activities; `drive` acts on it while it runs. */
    async run(
      script: ActivityScript,
      input: Partial<ExecutionInput> = {},
      drive?: (handle: WorkflowHandle<typeof agentExecution>, scripted: ScriptedActivities) => Promise<void>,
      opts: { stopReasonAtStart?: string } = {},
    ): Promise<WorkflowRun> {
      const scripted = scriptedActivities({ workflows: env.client.workflow, ...script });
      const taskQueue = `workflow-${randomBytes(4).toString('hex')}`;
      const {
        workflowsPath: _bundled,
        interceptors: _inTheBundle,
        ...options
      } = executionWorkerOptions(env, { taskQueue, activities: scripted.activities });
      const worker = await Worker.create(
        coverage.augmentWorkerOptionsWithBundle({
          ...options,
          workflowBundle: bundle,
          // Heartbeats go out at least this often, not only every 0.8 heartbeat timeouts: a cancel reaches a
          // heartbeating activity at once, and a timeout of seconds leaves seconds of room before a live
          // activity is taken for a dead one on a loaded machine.
          maxHeartbeatThrottleInterval: '200 ms',
        }),
      );
      const started = Date.now();
      const start = {
        args: [{ agent: 'agent-a', prompt: 'do it', busyPolicy: 'queue' as const, trigger: 'test', ...input }] as [ExecutionInput],
        workflowId: `execution-${randomBytes(4).toString('hex')}`,
        taskQueue,
      };
      const handle =
        opts.stopReasonAtStart === undefined
          ? await env.client.workflow.start(agentExecution, start)
          : await env.client.workflow.signalWithStart(agentExecution, {
              ...start,
              signal: stopSignal,
              signalArgs: [{ reason: opts.stopReasonAtStart }],
            });
      const ended = await worker.runUntil(async () => {
        await drive?.(handle, scripted);
        return handle.result().then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
      });
      return { scripted, handle, ...ended, wallMs: Date.now() - started };
    },
    /**
     * Replays recorded histories against the current workflow code (a change that cannot replay them
     * would strand running executions with TMPRL1100); their runs count towards coverage too.
     * Returns the failures, one line each.
     */
    async replay(histories: RecordedHistory[], opts: { ignoreCodec?: boolean } = {}): Promise<string[]> {
      const merge = coverage.sinks.coverage.merge;
      const failures: string[] = [];
      // One replay worker per codec: histories recorded with encryption on decode only with their keys.
      for (const codecKeys of new Set(histories.map((h) => (opts.ignoreCodec ? undefined : h.codecKeys)))) {
        const results = Worker.runReplayHistories(
          {
            workflowBundle: bundle,
            sinks: { ...workerTracingOptions().sinks, coverage: { merge: { ...merge, callDuringReplay: true } } },
            ...dataConverterOptions(codecKeys === undefined ? undefined : new EncryptionCodec(codecKeysFrom(codecKeys))),
          },
          histories
            .filter((h) => opts.ignoreCodec || h.codecKeys === codecKeys)
            .map(({ name, history }) => ({ workflowId: name, history })),
        );
        for await (const result of results) {
          if (result.error) {
            failures.push(
              `${result.workflowId}: ${result.error.message} — executions running this path would be stranded by this change: ` +
                'put it behind patched() or ship it as a new build (docs/operations.md: Workflow code changes)',
            );
          }
        }
      }
      return failures;
    },
    /** Statement, branch and function coverage of one source file by the runs so far. */
    coverageOf(file: string) {
      const map = libCoverage.createCoverageMap({});
      for (const data of coverage.coverageMapsData) map.merge(data);
      const key = map.files().find((f) => f.endsWith(file));
      if (!key) throw new Error(`no coverage of ${file} in ${coverage.coverageMapsData.length} maps: ${map.files().join(', ')}`);
      const fileCoverage = map.fileCoverageFor(key);
      const uncoveredBranches = Object.entries(fileCoverage.b).flatMap(([id, hits]) =>
        hits.flatMap((n, i) => (n === 0 ? [`line ${fileCoverage.branchMap[id]!.loc.start.line} (path ${i})`] : [])),
      );
      return { summary: fileCoverage.toSummary().toJSON(), uncoveredLines: fileCoverage.getUncoveredLines(), uncoveredBranches };
    },
    async close() {
      await env.teardown();
    },
  };
}

export type WorkflowRunner = Awaited<ReturnType<typeof startWorkflowRunner>>;
