import type { Cluster, Redis } from 'ioredis';

export const defaultFullSweepSeconds = 600;

export type FullSweepTurns = ReturnType<typeof createFullSweepTurns>;

/**
 * Whose turn it is to run a full sweep, shared by every worker through one Redis key that lives
 * for the interval: the cycle that creates it sweeps, the others run regular cycles until it
 * expires. The key also expires while no cycle runs at all, so the first cycle after a pause
 * longer than the interval (an outage, a redeploy) is a full sweep.
 */
export function createFullSweepTurns(redis: Redis | Cluster, opts: { intervalSeconds: number; key?: string }) {
  const key = opts.key ?? 'lifeline:reconciler:full-sweep';
  return {
    intervalSeconds: opts.intervalSeconds,

    /** True when this cycle must sweep; Redis out of reach also says true, the safe side. */
    async claim(): Promise<boolean> {
      try {
        return (await redis.set(key, new Date().toISOString(), 'EX', opts.intervalSeconds, 'NX')) === 'OK';
      } catch {
        return true;
      }
    },

    /** A sweep that did not finish hands its turn to the next cycle rather than wait an interval. */
    async giveBack(): Promise<void> {
      await redis.del(key).catch(() => undefined);
    },
  };
}
