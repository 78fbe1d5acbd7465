import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAgentServer } from '../../src/agent-server/agent-server.js';
import { literalToken } from '../../src/domain/token-reference.js';
import { LifelineClient } from '../../src/client/lifeline-client.js';
import { createAgentStore } from '../../src/store/agent-store.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { probePid } from '../processes/process-probe.js';
import { startWorkerProcess, type WorkerProcess } from '../processes/worker-process.js';
import { benchWorkerEnv, type BenchStack } from './bench-stack.js';
import { progress } from './progress.js';
import { distribution, type Distribution } from './stats.js';

export interface ScaleOptions {
  runs: number;
  /** How long the steady state is measured. */
  windowSeconds: number;
  stops: number;
}

export interface ScaleResult {
  runs: number;
  windowSeconds: number;
  /** Of the worker process, per running execution, in the steady state (idle worker subtracted). */
  cpuCoresPer1000Runs: number;
  workerCpuCoresIdle: number;
  workerCpuCoresLoaded: number;
  memoryMiBPerRun: number;
  workerRssMiBIdle: number;
  workerRssMiBLoaded: number;
  agentRequestsPerSecond: number;
  agentRequestsPerRunPerMinute: number;
  /** An operator's stop → the agent process gone (SIGTERM reached it), ms. */
  stopToProcessGoneMs: Distribution;
  /** SIGKILL of the worker → every remaining run re-attached on a fresh worker, s. */
  reattachAllSeconds: number;
  heartbeatTimeoutSeconds: number;
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

/** CPU cores a process used over a window. */
async function coresOver(pid: number, seconds: number): Promise<number> {
  const [cpu0, t0] = [cpuSeconds(pid), Date.now()];
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return (cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000);
}

/** A pass-through HTTP proxy in front of the agent server that counts the requests the worker sends. */
async function countingProxy(target: string): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let requests = 0;
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    requests += 1;
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * `runs` long executions on one worker process, each an agent process that only sleeps (DESIGN §10:
 * runs mostly wait): what one running execution costs the worker in CPU and memory, how often the
 * worker asks the agent, how soon an operator's stop reaches the process, and how long a SIGKILLed
 * worker's runs take to re-attach on a fresh one.
 */
export async function benchScale(bs: BenchStack, opts: ScaleOptions): Promise<ScaleResult> {
  const agent = 'bench-sleep';
  const token = randomBytes(16).toString('hex');
  const heartbeatTimeoutSeconds = 30;
  const agentServer = await startAgentServer(
    { agents: { [agent]: { token, command: ['sleep'], stopGraceMs: 2000, maxConcurrentRuns: opts.runs } } },
    bs.log,
  );
  const proxy = await countingProxy(agentServer.url);
  await createAgentStore(bs.pool).upsert({
    name: agent,
    baseUrl: `${proxy.url}/agents/${agent}`,
    token: literalToken(token),
    capacity: opts.runs,
    defaultTimeoutSeconds: null,
  });
  const taskQueue = 'bench-scale';
  let identity = 0;
  const startWorker = () =>
    startWorkerProcess({
      identity: `bench-scale-${++identity}`,
      env: {
        ...process.env,
        ...benchWorkerEnv(bs, taskQueue, {
          LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: String(heartbeatTimeoutSeconds),
          LIFELINE_MAX_CONCURRENT_RUNS: String(opts.runs + 50),
          LIFELINE_RECONCILE_INTERVAL_SECONDS: '0',
        }),
      },
    });
  let worker: WorkerProcess = await startWorker();
  const client = new LifelineClient({ temporal: bs.temporal, pool: bs.pool, taskQueue });
  try {
    const pid = worker.child.pid!;
    progress(`scale: idle worker for ${opts.windowSeconds} s`);
    const workerCpuCoresIdle = await coresOver(pid, opts.windowSeconds);
    const workerRssMiBIdle = rssMiB(pid);

    progress(`scale: starting ${opts.runs} executions of \`sleep 3600\``);
    const ids: string[] = [];
    for (let i = 0; i < opts.runs; i += 50) {
      const batch = Array.from({ length: Math.min(50, opts.runs - i) }, () => client.startExecution({ agent, prompt: '3600' }));
      ids.push(...(await Promise.all(batch)).map((s) => s.executionId));
    }
    await waitUntil(
      async () => {
        const { rows } = await bs.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM executions WHERE agent = $1 AND status = 'running'`,
          [agent],
        );
        const started = worker.lines.filter((l) => l.entry.msg === 'agent execution started').length;
        return rows[0]!.n === opts.runs && started === opts.runs;
      },
      { what: `${opts.runs} runs to start on the agent`, timeoutMs: 600_000, intervalMs: 1000 },
    );
    // Let the start-up burst settle before measuring the steady state.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    progress(`scale: ${opts.runs} runs steady; measuring for ${opts.windowSeconds} s`);
    const requestsBefore = proxy.count();
    const windowStart = Date.now();
    const workerCpuCoresLoaded = await coresOver(pid, opts.windowSeconds);
    const agentRequestsPerSecond = (proxy.count() - requestsBefore) / ((Date.now() - windowStart) / 1000);
    const workerRssMiBLoaded = rssMiB(pid);

    progress(`scale: ${opts.stops} operator stops`);
    const stopSamples: number[] = [];
    const agentRuns = (await await fetch(`${agentServer.url}/agents/${agent}/executions?status=running`, {
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.json())) as { executions: { id: string; pid: number }[] };
    const pids = new Map(agentRuns.executions.map((e) => [e.id, e.pid]));
    for (const executionId of ids.slice(0, opts.stops)) {
      const processPid = pids.get(executionId)!;
      const stoppedAt = Date.now();
      await client.stopExecution(executionId, 'scale benchmark stop');
      await waitUntil(async () => probePid(processPid) === 'ESRCH', {
        what: `process ${processPid} to end`,
        timeoutMs: 60_000,
        intervalMs: 10,
      });
      stopSamples.push(Date.now() - stoppedAt);
    }

    progress('scale: SIGKILL the worker, start a fresh one, wait for every run to re-attach');
    const remaining = opts.runs - opts.stops;
    const killedAt = Date.now();
    await worker.kill('SIGKILL');
    worker = await startWorker();
    await waitUntil(
      async () => worker.lines.filter((l) => l.entry.msg === 're-attached to the running agent execution').length >= remaining,
      {
        what: `${remaining} runs to re-attach`,
        timeoutMs: 600_000,
        intervalMs: 500,
      },
    );
    const reattachAllSeconds = (Date.now() - killedAt) / 1000;

    return {
      runs: opts.runs,
      windowSeconds: opts.windowSeconds,
      cpuCoresPer1000Runs: ((workerCpuCoresLoaded - workerCpuCoresIdle) / opts.runs) * 1000,
      workerCpuCoresIdle,
      workerCpuCoresLoaded,
      memoryMiBPerRun: (workerRssMiBLoaded - workerRssMiBIdle) / opts.runs,
      workerRssMiBIdle,
      workerRssMiBLoaded,
      agentRequestsPerSecond,
      agentRequestsPerRunPerMinute: (agentRequestsPerSecond * 60) / opts.runs,
      stopToProcessGoneMs: distribution(stopSamples),
      reattachAllSeconds,
      heartbeatTimeoutSeconds,
    };
  } finally {
    progress('scale: stopping the worker and the agent server');
    await worker.stop(10_000);
    await agentServer.close();
    await proxy.close();
  }
}
