import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../util/logger.js';
import { maxOutputTailBytes, type AgentExecution } from '../agent/protocol.js';
import { type AgentRunStatus } from '../domain/agent-run-status.js';
import type { AgentCommandConfig } from './agent-server-config.js';
import type { UsageReport } from '../domain/usage.js';
import { guardGroup, releaseGroup } from './orphan-reaper.js';
import { OutputTail } from './output-tail.js';
import type { AgentUser } from './agent-user.js';
import { agentProcessEnvironment } from './process-environment.js';
import { createUsageScanner, usageFd } from './usage-lines.js';

/** Linux's limit on one argument (MAX_ARG_STRLEN). */
const maxArgumentBytes = 128 * 1024;

function spawnFailure(err: unknown, prompt: string): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  if ((error as NodeJS.ErrnoException).code !== 'E2BIG') return error;
  return new Error(
    `the prompt (${Buffer.byteLength(prompt)} bytes) is too large for one argument (at most ${maxArgumentBytes} bytes): configure the agent with "promptVia": "stdin"`,
  );
}

/** After the command exits, how long its output pipes may stay open (held by a stray descendant). */
const pipeDrainMs = 2_000;

interface Run {
  id: string;
  prompt: string;
  pid?: number;
  status: AgentRunStatus;
  startedAt: string;
  /** The last output, or the start before any: what the run reports as its progress. */
  lastProgressAt: string;
  /** The command's last usage report (a `LIFELINE_USAGE` line on its usage channel). */
  usage?: UsageReport;
  finishedAt?: string;
  exitCode?: number | null;
  error?: string;
  /** Captured output until the run ends, then joined into `output` once. */
  chunks: Buffer[];
  keptBytes: number;
  outputBytes: number;
  /** The output's last bytes, past the cap too: what a live view of the run shows. */
  tail: OutputTail;
  output?: string;
  stopRequested: boolean;
  /** Why the stop came: Lifeline's request, or the run's own timeout enforced here. */
  stopReason?: string;
  killTimer?: NodeJS.Timeout;
  deadlineTimer?: NodeJS.Timeout;
  ended: Promise<void>;
  /** Called on each usage report: long polls waiting for the cost to pass a budget. */
  usageWatchers: Set<() => void>;
}

export type StartResult =
  | { outcome: 'created' | 'existing'; execution: AgentExecution }
  | { outcome: 'conflict'; message: string }
  | { outcome: 'busy'; message: string };

/**
 * Ids of runs started here, kept after their records expire so that a start of such an id is
 * refused instead of run again; the oldest are forgotten past this many (an id is a few dozen bytes).
 */
const maxRememberedIds = 100_000;

/**
 * The executions of one agent, each a child process in its own process group so that stop
 * reaches everything the command spawned, and the reaper (orphan-reaper.ts) kills the group if
 * this server dies first. State lives in memory only: after a restart the agent
 * has lost its executions and says so with 404, which is what Lifeline must be able to handle.
 */
/** How long past its timeout a run may go on before the agent stops it itself: Lifeline's own stop comes first. */
const deadlineMarginMs = 5000;

export class ProcessRegistry {
  private readonly runs = new Map<string, Run>();
  private readonly spawns = new Map<string, number>();

  constructor(
    private readonly agent: string,
    private readonly config: AgentCommandConfig,
    /** Another user to run the agent's processes as (agent-user.ts), or none: the server's own. */
    private readonly user: AgentUser | undefined,
    private readonly logger: Logger,
  ) {}

  /** Idempotent by id: a known id returns its record, running or finished, and never spawns again. */
  /** `trace`: the start request's trace context, as TRACEPARENT (and TRACESTATE) for the process. */
  start(req: { id: string; prompt: string; timeoutSeconds: number }, trace: Record<string, string> = {}): StartResult {
    const existing = this.runs.get(req.id);
    if (existing) {
      // The same id with another prompt is a caller bug; answering with the old run would hide it.
      if (existing.prompt !== req.prompt) {
        return { outcome: 'conflict', message: `execution ${req.id} already exists with a different prompt` };
      }
      return { outcome: 'existing', execution: view(existing) };
    }
    if (this.spawns.has(req.id)) {
      return { outcome: 'conflict', message: `execution ${req.id} already ran here and its record has expired; it is not run again` };
    }
    const running = [...this.runs.values()].filter((r) => r.status === 'running').length;
    if (running >= this.config.maxConcurrentRuns) {
      return { outcome: 'busy', message: `agent ${this.agent} runs ${running} executions, its limit (maxConcurrentRuns)` };
    }
    const run = this.spawn(req.id, req.prompt, trace);
    // A run cut off from Lifeline (its worker gone, the network split) still ends near its deadline.
    run.deadlineTimer = setTimeout(
      () => this.stop(run.id, `its timeout of ${req.timeoutSeconds} s`),
      req.timeoutSeconds * 1000 + deadlineMarginMs,
    );
    run.deadlineTimer.unref();
    return { outcome: 'created', execution: view(run) };
  }

  /** With `outputTail`, the record carries the output's last bytes (agent protocol 2). */
  get(id: string, outputTail = false): AgentExecution | undefined {
    const run = this.runs.get(id);
    if (!run) return undefined;
    const execution = view(run);
    if (outputTail) execution.outputTail = run.tail.text();
    return execution;
  }

  /**
   * The long poll's wait: resolves when the run ends, after `ms`, when the caller goes away, or once
   * its reported cost in USD is above `costAboveUsd`, whichever comes first; at once for a run that
   * is unknown or already ended, or already above.
   */
  async waitForEnd(id: string, ms: number, signal: AbortSignal, costAboveUsd?: number): Promise<void> {
    const run = this.runs.get(id);
    if (!run || run.status !== 'running') return;
    const above = () => costAboveUsd !== undefined && run.usage?.cost?.currency === 'USD' && run.usage.cost.amount > costAboveUsd;
    if (above()) return;
    let watcher: (() => void) | undefined;
    const overBudget = new Promise<void>((resolve) => {
      watcher = () => above() && resolve();
      if (costAboveUsd !== undefined) run.usageWatchers.add(watcher);
    });
    try {
      await Promise.race([run.ended, overBudget, delay(ms, undefined, { signal }).catch(() => undefined)]);
    } finally {
      run.usageWatchers.delete(watcher!);
    }
  }

  /** Outputs are left out: a listing is for finding work, and each output can be megabytes. */
  list(status?: AgentRunStatus): AgentExecution[] {
    return [...this.runs.values()].filter((r) => !status || r.status === status).map((r) => view(r, false));
  }

  /** SIGTERM to the group now, SIGKILL after the grace period; a no-op once the run has ended. */
  stop(id: string, reason = 'request'): AgentExecution | undefined {
    const run = this.runs.get(id);
    if (!run) return undefined;
    if (run.status === 'running' && !run.stopRequested) {
      run.stopRequested = true;
      run.stopReason = reason;
      this.log(run).info({ graceMs: this.config.stopGraceMs, reason }, 'stopping execution');
      signalGroup(run.pid, 'SIGTERM', this.log(run));
      run.killTimer = setTimeout(() => {
        this.log(run).warn('execution still alive after the stop grace period; killing its process group');
        signalGroup(run.pid, 'SIGKILL', this.log(run));
      }, this.config.stopGraceMs);
    }
    return view(run);
  }

  /** Stops every running execution and resolves once all of them have ended. */
  async stopAll(): Promise<void> {
    const running = [...this.runs.values()].filter((r) => r.status === 'running');
    for (const run of running) this.stop(run.id);
    await Promise.all(running.map((r) => r.ended));
  }

  /** Process spawns per execution id: the evidence that no execution was ever started twice. */
  spawnCounts(): Record<string, number> {
    return Object.fromEntries(this.spawns);
  }

  private spawn(id: string, prompt: string, trace: Record<string, string>): Run {
    const [file, ...args] = this.config.command as [string, ...string[]];
    let markEnded!: () => void;
    const startedAt = new Date().toISOString();
    const run: Run = {
      id,
      prompt,
      status: 'running',
      startedAt,
      lastProgressAt: startedAt,
      chunks: [],
      keptBytes: 0,
      outputBytes: 0,
      tail: new OutputTail(maxOutputTailBytes),
      stopRequested: false,
      ended: new Promise((resolve) => (markEnded = resolve)),
      usageWatchers: new Set(),
    };
    this.runs.set(id, run);
    this.spawns.set(id, (this.spawns.get(id) ?? 0) + 1);

    const viaStdin = this.config.promptVia === 'stdin';
    let child: ChildProcess;
    try {
      // After `--`: a prompt such as `--output=/some/file` is an operand, never an option of the command.
      child = spawn(file, viaStdin ? args : [...args, '--', prompt], {
        detached: true,
        // The fourth is the usage channel (usage-lines.ts): reports never come from the output.
        stdio: [viaStdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
        env: { ...agentProcessEnvironment(process.env, this.config.env, id, this.user), ...trace },
        // Node drops the supplementary groups too (setgroups) before switching.
        ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
      });
    } catch (err) {
      // Some failures (E2BIG: an argument over 128 KiB) throw instead of emitting 'error': the run still ends, failed, with why.
      this.finish(run, null, null, spawnFailure(err, prompt));
      markEnded();
      return run;
    }
    if (viaStdin) child.stdin?.end(prompt);
    run.pid = child.pid;
    if (run.pid !== undefined) guardGroup(run.pid);
    this.log(run).info({ command: this.config.command }, 'execution started');

    const capture = (chunk: Buffer) => {
      run.outputBytes += chunk.length;
      run.lastProgressAt = new Date().toISOString();
      run.tail.add(chunk);
      const room = this.config.maxOutputBytes - run.keptBytes;
      if (room <= 0) return;
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      run.chunks.push(kept);
      run.keptBytes += kept.length;
    };
    child.stdout!.on('data', capture);
    const usageChannel = child.stdio[usageFd] as Readable;
    usageChannel.on(
      'data',
      createUsageScanner(
        (usage) => {
          run.usage = usage;
          for (const watcher of run.usageWatchers) watcher();
        },
        (reason) => this.log(run).warn({ reason }, 'ignoring a malformed usage line'),
      ),
    );
    child.stderr!.on('data', capture);
    // A command that exits without reading its whole prompt closes the pipe: not an error of the run.
    child.stdin?.on('error', () => undefined);

    let spawnError: Error | undefined;
    child.on('error', (err) => {
      if (run.pid === undefined) spawnError = err;
      else this.log(run).warn({ err }, 'child process error');
    });

    let drainTimer: NodeJS.Timeout | undefined;
    child.once('exit', () => {
      // Whatever the command left in its group dies with it, so nothing outlives the execution.
      signalGroup(run.pid, 'SIGKILL', this.log(run));
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        usageChannel.destroy();
      }, pipeDrainMs);
    });

    child.once('close', (code, signal) => {
      if (run.pid !== undefined) releaseGroup(run.pid);
      clearTimeout(drainTimer);
      clearTimeout(run.killTimer);
      clearTimeout(run.deadlineTimer);
      this.finish(run, code, signal, spawnError);
      markEnded();
    });
    return run;
  }

  private finish(run: Run, code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void {
    run.finishedAt = new Date().toISOString();
    run.output = Buffer.concat(run.chunks).toString('utf8');
    run.chunks = [];
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (spawnError) {
      run.status = 'failed';
      run.exitCode = null;
      run.error = `could not start ${this.config.command[0]}: ${spawnError.message}`;
    } else {
      run.exitCode = code;
      if (run.stopRequested) {
        run.status = 'cancelled';
        run.error = `stopped on ${run.stopReason ?? 'request'} (${how})`;
      } else if (code === 0) {
        run.status = 'succeeded';
      } else {
        run.status = 'failed';
        run.error = how;
      }
    }
    this.log(run).info({ status: run.status, exitCode: run.exitCode, error: run.error, outputBytes: run.outputBytes }, 'execution ended');
    this.forgetOldRuns();
  }

  /**
   * Finished runs are kept for Lifeline to read their end, not forever: the oldest go once expired,
   * beyond keepFinishedRuns, or while all runs' kept output is over maxKeptOutputBytes.
   */
  private forgetOldRuns(now = Date.now()): void {
    const { keepFinishedRuns, finishedRunTtlSeconds, maxKeptOutputBytes } = this.config;
    const finished = [...this.runs.values()].filter((r) => r.status !== 'running');
    finished.sort((a, b) => Date.parse(a.finishedAt!) - Date.parse(b.finishedAt!));
    let keptBytes = [...this.runs.values()].reduce((sum, r) => sum + r.keptBytes, 0);
    let count = finished.length;
    for (const run of finished) {
      const expired = now - Date.parse(run.finishedAt!) > finishedRunTtlSeconds * 1000;
      if (!expired && count <= keepFinishedRuns && keptBytes <= maxKeptOutputBytes) break;
      this.runs.delete(run.id);
      count -= 1;
      keptBytes -= run.keptBytes;
    }
    for (const id of this.spawns.keys()) {
      if (this.spawns.size <= maxRememberedIds) break;
      if (!this.runs.has(id)) this.spawns.delete(id);
    }
  }

  private log(run: Run): Logger {
    return this.logger.child({ agent: this.agent, executionId: run.id, childPid: run.pid });
  }
}

function view(run: Run, withOutput = true): AgentExecution {
  const execution: AgentExecution = {
    id: run.id,
    status: run.status,
    startedAt: run.startedAt,
    outputBytes: run.outputBytes,
    lastProgressAt: run.lastProgressAt,
  };
  if (run.pid !== undefined) execution.pid = run.pid;
  if (run.usage !== undefined) execution.usage = run.usage;
  if (run.status === 'running') return execution;
  if (withOutput) execution.output = run.output;
  execution.finishedAt = run.finishedAt;
  execution.exitCode = run.exitCode;
  if (run.error !== undefined) execution.error = run.error;
  return execution;
}

/**
 * Signals the whole process group (negative pid). A group that is already gone is the expected
 * race; any other failure is logged rather than thrown, as this runs from timers and child events.
 */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals, log: Logger): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') log.error({ err, signal }, 'cannot signal process group');
  }
}
