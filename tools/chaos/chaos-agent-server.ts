import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { createAgentClient } from '../../src/agent/agent-client.js';
import type { AgentServerConfigInput } from '../../src/agent-server/agent-server-config.js';
import { startAgentServerProcess, type AgentServerProcess } from '../processes/agent-server-process.js';
import { demoAgentConfig } from '../../src/agent-server/demo-agents.js';
import { isolatedEnvironment } from '../processes/isolated-environment.js';
import type { AgentLedger } from './agent-ledger.js';

export interface ChaosAgent {
  name: string;
  capacity: number;
  token: string;
  baseUrl: string;
}

/** Small capacities, so that queueing and skipping happen all the time. */
const agentCapacities = { 'chaos-solo': 1, 'chaos-pair': 2, 'chaos-trio': 3, 'chaos-duo': 2 };

/** A stop that SIGTERM cannot finish: the demo's stop grace is 2 s, so this only catches a hung server. */
const stopForceAfterMs = 15_000;

/**
 * The reference agent server as a child process on a fixed loopback port (so a restart keeps the
 * agents' URLs), with demo agents of small capacity. Every log line goes to the ledger, which
 * outlives the server's in-memory state.
 */
export class ChaosAgentServer {
  private generation = 0;

  private constructor(
    readonly agents: ChaosAgent[],
    private readonly start: (generation: number) => Promise<AgentServerProcess>,
    private proc: AgentServerProcess,
    private readonly ledger: AgentLedger,
  ) {}

  static async start(opts: { dir: string; ledger: AgentLedger }): Promise<ChaosAgentServer> {
    const port = await getPort({ host: '127.0.0.1' });
    const agents = Object.entries(agentCapacities).map(([name, capacity]) => ({
      name,
      capacity,
      token: randomBytes(12).toString('hex'),
      baseUrl: `http://127.0.0.1:${port}/agents/${name}`,
    }));
    const config: AgentServerConfigInput = {
      host: '127.0.0.1',
      agents: Object.fromEntries(agents.map((a) => [a.name, demoAgentConfig(a.token, { stopGraceMs: 2000 })])),
    };
    const configPath = join(opts.dir, 'agent-server.json');
    writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
    const start = (generation: number) =>
      startAgentServerProcess({
        configPath,
        port,
        env: isolatedEnvironment({ LIFELINE_LOG_LEVEL: 'info' }),
        logFile: join(opts.dir, 'agent-server.log'),
        onJson: (entry, at) => opts.ledger.observe(generation, entry, at),
      });
    return new ChaosAgentServer(agents, start, await start(0), opts.ledger);
  }

  get url(): string {
    return this.proc.url;
  }

  /** Takes the current server's spawn counts into the ledger (its memory is lost when it stops). */
  async snapshotSpawns(): Promise<void> {
    const perAgent = await Promise.all(
      this.agents.map(async (a) => {
        const res = await fetch(`${a.baseUrl}/_debug/starts`, {
          headers: { authorization: `Bearer ${a.token}` },
          signal: AbortSignal.timeout(10_000),
        });
        return (await res.json()) as Record<string, number>;
      }),
    );
    this.ledger.recordSpawnCounts(this.generation, Object.assign({}, ...perAgent) as Record<string, number>);
  }

  /** SIGTERM (the server stops its executions and exits), then a fresh server on the same port. */
  async restart(): Promise<{ downAt: number; upAt: number }> {
    await this.snapshotSpawns();
    const downAt = Date.now();
    await this.proc.stop(stopForceAfterMs);
    this.generation += 1;
    this.proc = await this.start(this.generation);
    return { downAt, upAt: Date.now() };
  }

  /** Executions each agent reports as running. */
  async running(): Promise<{ agent: string; executionId: string }[]> {
    const lists = await Promise.all(
      this.agents.map(async (a) => {
        const runs = await createAgentClient({ baseUrl: a.baseUrl, token: a.token }).listRunning();
        return runs.map((r) => ({ agent: a.name, executionId: r.id }));
      }),
    );
    return lists.flat();
  }

  async stop(): Promise<void> {
    await this.proc.stop(stopForceAfterMs);
  }
}
