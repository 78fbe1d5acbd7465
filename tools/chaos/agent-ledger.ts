import type { AgentRunStatus } from '../../src/domain/agent-run-status.js';

/** One process the agent server spawned for an execution, as its own log tells it. */
export interface AgentRun {
  executionId: string;
  agent: string;
  /** Which agent server process ran it: 0, then one more per restart. */
  generation: number;
  pid: number | undefined;
  startedAt: number;
  status?: Exclude<AgentRunStatus, 'running'>;
  endedAt?: number;
}

/**
 * What the agent server reported, kept across its restarts (a restarted server has forgotten
 * everything): its log lines "execution started" and "execution ended", and its spawn counts.
 */
export class AgentLedger {
  private readonly runs = new Map<string, AgentRun>();
  private readonly spawnSnapshots = new Map<number, Record<string, number>>();

  /** Feeds one structured log line of agent server `generation`. */
  observe(generation: number, entry: Record<string, unknown>, at: number): void {
    const executionId = entry.executionId;
    if (typeof executionId !== 'string') return;
    const key = `${generation}/${executionId}`;
    const time = typeof entry.time === 'number' ? entry.time : at;
    if (entry.msg === 'execution started') {
      this.runs.set(key, {
        executionId,
        agent: String(entry.agent),
        generation,
        pid: typeof entry.childPid === 'number' ? entry.childPid : undefined,
        startedAt: time,
      });
    } else if (entry.msg === 'execution ended') {
      const run = this.runs.get(key);
      if (!run) return;
      run.status = entry.status as AgentRun['status'];
      run.endedAt = time;
    }
  }

  /** The runs of one execution, oldest first (more than one only if it was started twice). */
  runsOf(executionId: string): AgentRun[] {
    return [...this.runs.values()].filter((r) => r.executionId === executionId);
  }

  all(): AgentRun[] {
    return [...this.runs.values()];
  }

  /** The server's own spawn counts (GET /_debug/starts); the latest snapshot of each generation counts. */
  recordSpawnCounts(generation: number, counts: Record<string, number>): void {
    this.spawnSnapshots.set(generation, counts);
  }

  /** Spawns per execution id over every agent server generation. */
  spawnCounts(): Map<string, number> {
    const total = new Map<string, number>();
    for (const counts of this.spawnSnapshots.values()) {
      for (const [id, n] of Object.entries(counts)) total.set(id, (total.get(id) ?? 0) + n);
    }
    return total;
  }
}
