import { probePid, processCommandLine } from '../processes/process-probe.js';
import type { AgentLedger } from './agent-ledger.js';

/** How often the agents' live processes are counted during the run. */
export const sampleEveryMs = 250;

/** A stretch of consecutive samples where an agent had more live processes than its capacity. */
export interface OverCapacity {
  from: number;
  to: number;
  samples: number;
  most: number;
  /** The executions whose processes were alive at the sample with the most. */
  executionIds: string[];
}

export interface AgentProcessSamples {
  agent: string;
  capacity: number;
  samples: number;
  /** The most demo-command processes of this agent alive at one sample, and when first seen. */
  most: number;
  mostAt: number | undefined;
  overCapacity: OverCapacity[];
}

/**
 * Counts each agent's live processes every 250 ms from what the agent server itself reported
 * spawning (the ledger's runs; a pid only counts while it is alive and still the demo command), not
 * from Redis, so that the count is the agents' own, whatever Lifeline's leases say.
 */
export class ProcessSampler {
  private readonly byAgent: Map<string, AgentProcessSamples>;
  private readonly open = new Map<string, OverCapacity>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: AgentLedger,
    agents: { name: string; capacity: number }[],
  ) {
    this.byAgent = new Map(
      agents.map((a) => [a.name, { agent: a.name, capacity: a.capacity, samples: 0, most: 0, mostAt: undefined, overCapacity: [] }]),
    );
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), sampleEveryMs);
  }

  /** Stops sampling; returns each agent's figures. */
  stop(): AgentProcessSamples[] {
    clearInterval(this.timer);
    this.timer = undefined;
    this.open.clear();
    return [...this.byAgent.values()];
  }

  sample(at = Date.now()): void {
    const alive = new Map<string, string[]>();
    for (const run of this.ledger.all()) {
      if (run.pid === undefined || probePid(run.pid) !== 'alive') continue;
      if (!processCommandLine(run.pid)?.includes('demo-command')) continue;
      alive.set(run.agent, [...(alive.get(run.agent) ?? []), run.executionId]);
    }
    for (const figures of this.byAgent.values()) {
      const ids = alive.get(figures.agent) ?? [];
      figures.samples += 1;
      if (ids.length > figures.most) {
        figures.most = ids.length;
        figures.mostAt = at;
      }
      const current = this.open.get(figures.agent);
      if (ids.length <= figures.capacity) {
        this.open.delete(figures.agent);
      } else if (current) {
        current.to = at;
        current.samples += 1;
        if (ids.length > current.most) Object.assign(current, { most: ids.length, executionIds: ids });
      } else {
        const stretch = { from: at, to: at, samples: 1, most: ids.length, executionIds: ids };
        figures.overCapacity.push(stretch);
        this.open.set(figures.agent, stretch);
      }
    }
  }
}
