/**
 * Limits on schedules, so that no one can make an agent fire every second or pile up schedules:
 * the shortest time between two fires (an interval, or a cron expression's next fire times), and
 * how many schedules one agent may have. Operators set them with LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS
 * and LIFELINE_SCHEDULES_PER_AGENT; a scheduler passes them to its client.
 */
export interface SchedulePolicy {
  minIntervalSeconds: number;
  maxPerAgent: number;
}

export const defaultSchedulePolicy: SchedulePolicy = { minIntervalSeconds: 60, maxPerAgent: 100 };

/** The shortest gap between consecutive fire times, in seconds; undefined with fewer than two. */
export function shortestGapSeconds(fireTimes: readonly Date[]): number | undefined {
  const sorted = fireTimes.map((t) => t.getTime()).sort((a, b) => a - b);
  let shortest: number | undefined;
  for (let i = 1; i < sorted.length; i++) {
    const gap = (sorted[i]! - sorted[i - 1]!) / 1000;
    shortest = shortest === undefined ? gap : Math.min(shortest, gap);
  }
  return shortest;
}
