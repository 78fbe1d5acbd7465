import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../processes/worker-process.js';
import type { Random } from './random.js';

/** Time a worker gets to drain on SIGTERM (its shutdown grace is 10 s) before it is killed. */
const stopForceAfterMs = 15_000;

/** Lifeline worker processes on one task queue; any of them can be SIGKILLed and replaced. */
export class WorkerPool {
  private readonly workers: WorkerProcess[] = [];
  private started = 0;

  constructor(private readonly opts: { env: NodeJS.ProcessEnv; logDir: string }) {}

  private async startOne(): Promise<WorkerProcess> {
    this.started += 1;
    const identity = `chaos-worker-${this.started}`;
    const worker = await startWorkerProcess({ identity, env: this.opts.env, logFile: join(this.opts.logDir, `${identity}.log`) });
    this.workers.push(worker);
    return worker;
  }

  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.startOne()));
  }

  /** SIGKILL, as a crash or an OOM kill would: no shutdown code runs. Then a fresh worker takes its place. */
  async killAndReplace(random: Random): Promise<{ killed: string; replacement: string }> {
    const live = this.workers.filter((w) => w.exitReason() === undefined);
    const victim = random.pick(live);
    await victim.kill('SIGKILL');
    const replacement = await this.startOne();
    return { killed: victim.identity, replacement: replacement.identity };
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop(stopForceAfterMs)));
  }
}
