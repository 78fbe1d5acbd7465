import type { AgentExecution } from '../agent/protocol.js';
import type { ProgressMark } from '../domain/execution-types.js';

export interface Stall {
  idleSeconds: number;
  lastProgressAt: string;
  outputBytes: number | undefined;
}

/**
 * Judges a run stalled when the progress its agent reports (last progress time, output bytes) has
 * not changed for the idle timeout. The idle time is counted on the workers' clocks from when one
 * first saw the report, never from the agent's timestamp: the two clocks may disagree by more than
 * a short idle timeout. A run whose agent reports no progress is never judged.
 */
export function createProgressWatch(idleTimeoutSeconds: number | undefined, prior: ProgressMark | undefined) {
  let mark = prior;
  const idleMs = (idleTimeoutSeconds ?? Infinity) * 1000;
  return {
    /** Carried in the heartbeat. */
    get mark(): ProgressMark | undefined {
      return mark;
    },

    /** Takes in the agent's answer read at `now`; the stall it shows, if any. */
    observe(exec: AgentExecution, now: number): Stall | undefined {
      if (exec.lastProgressAt === undefined) return undefined;
      const report = `${exec.lastProgressAt} ${exec.outputBytes ?? ''}`;
      if (mark?.report !== report) mark = { report, seenAt: now };
      const idle = now - mark.seenAt;
      if (exec.status !== 'running' || idle < idleMs) return undefined;
      return { idleSeconds: Math.round(idle / 1000), lastProgressAt: exec.lastProgressAt, outputBytes: exec.outputBytes };
    },

    /** The longest the next read may wait: a long poll ends in time for the stall to be seen when it is due. */
    waitSeconds(longPollSeconds: number, now: number): number {
      if (!mark || idleTimeoutSeconds === undefined) return longPollSeconds;
      const left = Math.ceil((mark.seenAt + idleMs - now) / 1000);
      return Math.max(1, Math.min(longPollSeconds, left));
    },
  };
}
