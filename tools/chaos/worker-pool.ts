import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startWorkerProcess, type WorkerProcess } from '../processes/worker-process.js';
import type { Random } from './random.js';

/** Time a worker gets to drain on SIGTERM (its shutdown grace is 10 s) before it is killed. */
const stopForceAfterMs = 15_000;
const startAttempts = 5;
const restartDelayMs = 2000;

interface PooledWorker {
  process: WorkerProcess;
  /** The environment it was started with: its replacement gets the same (the same build). */
  env: NodeJS.ProcessEnv;
}

/** Lifeline worker processes on one task queue, of one build or two during a rollout; any can be killed or restarted. */
export class WorkerPool {
  private readonly workers: PooledWorker[] = [];
  private started = 0;

  constructor(private readonly opts: { env: NodeJS.ProcessEnv; logDir: string }) {}

  /**
   * A worker that cannot start (Postgres or Temporal restarting under it: its start migrates and
   * registers) is started again, as an orchestrator's restart policy would, a few times.
   */
  private async startOne(env: NodeJS.ProcessEnv): Promise<PooledWorker> {
    for (let attempt = 1; ; attempt += 1) {
      this.started += 1;
      const identity = `chaos-worker-${this.started}`;
      try {
        const worker = { process: await startWorkerProcess({ identity, env, logFile: join(this.opts.logDir, `${identity}.log`) }), env };
        this.workers.push(worker);
        return worker;
      } catch (err) {
        if (attempt >= startAttempts) throw err;
        await delay(restartDelayMs);
      }
    }
  }

  private live(): PooledWorker[] {
    return this.workers.filter((w) => w.process.exitReason() === undefined);
  }

  /** Starts `count` workers, of the initial build unless `extraEnv` says otherwise (another bundle: another build). */
  async start(count: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<string[]> {
    const env = { ...this.opts.env, ...extraEnv };
    const started = await Promise.all(Array.from({ length: count }, () => this.startOne(env)));
    return started.map((w) => w.process.identity);
  }

  /** The live workers' identities, optionally only those started with this workflow bundle. */
  identities(bundle?: string): string[] {
    return this.live()
      .filter((w) => bundle === undefined || w.env.LIFELINE_WORKFLOW_BUNDLE === bundle)
      .map((w) => w.process.identity);
  }

  /** SIGKILL, as a crash or an OOM kill would: no shutdown code runs. Then a fresh worker of the same build takes its place. */
  async killAndReplace(random: Random): Promise<{ killed: string; replacement: string }> {
    const victim = random.pick(this.live());
    await victim.process.kill('SIGKILL');
    const replacement = await this.startOne(victim.env);
    return { killed: victim.process.identity, replacement: replacement.process.identity };
  }

  /**
   * A rolling deploy: every live worker in turn is replaced by a fresh one of its build, the new
   * one started before the old one gets SIGTERM (as docs/operations.md, Deploys, asks), each stop waited for.
   */
  async rollingRestart(): Promise<string[]> {
    const replaced: string[] = [];
    for (const old of this.live()) {
      const fresh = await this.startOne(old.env);
      await old.process.stop(stopForceAfterMs);
      replaced.push(`${old.process.identity}>${fresh.process.identity}`);
    }
    return replaced;
  }

  /** Stops these workers gracefully (SIGTERM), all at once. */
  async stopGracefully(identities: string[]): Promise<void> {
    await Promise.all(
      this.live()
        .filter((w) => identities.includes(w.process.identity))
        .map((w) => w.process.stop(stopForceAfterMs)),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.process.stop(stopForceAfterMs)));
  }
}
