import type { Cluster, Redis } from 'ioredis';
import type { FullSweepTurns } from '../deps/lifeline-deps.js';

/**
 * Whose turn it is to run a full sweep, shared by every worker through one Redis key that lives
 * for the interval: the cycle that creates it sweeps, the others run regular cycles until it
 * expires. The key also expires while no cycle runs at all, so the first cycle after a pause
 * longer than the interval (an outage, a redeploy) is a full sweep.
 */
export function createFullSweepTurns(redis: Redis | Cluster, opts: { intervalSeconds: number; key?: string }): FullSweepTurns {
  const key = opts.key ?? 'lifeline:reconciler:full-sweep';
  return {
    intervalSeconds: opts.intervalSeconds,

    async claim(): Promise<boolean> {
      try {
        return (await redis.set(key, new Date().toISOString(), 'EX', opts.intervalSeconds, 'NX')) === 'OK';
      } catch {
        return true;
      }
    },

    async giveBack(): Promise<void> {
      await redis.del(key).catch(() => undefined);
    },
  };
}
