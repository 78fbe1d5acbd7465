import { probePid, processCommandLine } from '../processes/process-probe.js';
import type { AgentLedger, AgentRun } from './agent-ledger.js';

/** How often the agents' live processes are counted during the run. */
export const sampleEveryMs = 250;

/** A stretch of consecutive samples where a group had more live processes than its limit. */
export interface OverLimit {
  from: number;
  to: number;
  samples: number;
  most: number;
  /** The executions whose processes were alive at the sample with the most. */
  executionIds: string[];
}

/** Processes that must never be more than a limit at once: an agent's (its capacity) or a tenant's. */
export interface ProcessGroup {
  kind: 'agent' | 'tenant';
  /** `chaos-pair`, `tenant wide-x`, `tenant narrow-x on chaos-pair`. */
  name: string;
  limit: number;
  includes(run: AgentRun): boolean;
}

export interface ProcessSamples {
  kind: ProcessGroup['kind'];
  name: string;
  limit: number;
  samples: number;
  /** The most demo-command processes of this group alive at one sample, and when first seen. */
  most: number;
  mostAt: number | undefined;
  overLimit: OverLimit[];
}

/**
 * Counts each group's live processes every 250 ms from what the agent server itself reported
 * spawning (the ledger's runs; a pid only counts while it is alive and still the demo command), not
 * from Redis, so that the count is the agents' own, whatever Lifeline's leases say.
 */
export class ProcessSampler {
  private readonly byGroup: Map<ProcessGroup, ProcessSamples>;
  private readonly open = new Map<ProcessGroup, OverLimit>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: AgentLedger,
    groups: ProcessGroup[],
  ) {
    this.byGroup = new Map(
      groups.map((g) => [g, { kind: g.kind, name: g.name, limit: g.limit, samples: 0, most: 0, mostAt: undefined, overLimit: [] }]),
    );
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), sampleEveryMs);
  }

  /** Stops sampling; returns each group's figures. */
  stop(): ProcessSamples[] {
    clearInterval(this.timer);
    this.timer = undefined;
    this.open.clear();
    return [...this.byGroup.values()];
  }

  sample(at = Date.now()): void {
    const alive = this.ledger.all().filter((run) => {
      if (run.pid === undefined || probePid(run.pid) !== 'alive') return false;
      return processCommandLine(run.pid)?.includes('demo-command') === true;
    });
    for (const [group, figures] of this.byGroup) {
      const ids = alive.filter((run) => group.includes(run)).map((run) => run.executionId);
      figures.samples += 1;
      if (ids.length > figures.most) {
        figures.most = ids.length;
        figures.mostAt = at;
      }
      const current = this.open.get(group);
      if (ids.length <= figures.limit) {
        this.open.delete(group);
      } else if (current) {
        current.to = at;
        current.samples += 1;
        if (ids.length > current.most) Object.assign(current, { most: ids.length, executionIds: ids });
      } else {
        const stretch = { from: at, to: at, samples: 1, most: ids.length, executionIds: ids };
        figures.overLimit.push(stretch);
        this.open.set(group, stretch);
      }
    }
  }
}
