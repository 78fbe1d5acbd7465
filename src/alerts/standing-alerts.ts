import type { Cluster, Redis } from 'ioredis';
import type { Alert, Alerter } from './webhook.js';

export type StandingAlerts = ReturnType<typeof createStandingAlerts>;

/**
 * Alerts about a condition that lasts (an execution stuck, a build without workers, runs waiting
 * for a worker) come from every reconcile cycle that sees it, on whichever worker runs it. One
 * Redis key per condition, shared by every worker, lets each condition through once per
 * `repeatSeconds` while it lasts instead of once a cycle (0: every cycle). With Redis out of reach
 * the alert is sent: a repeat is better than silence.
 */
export function createStandingAlerts(redis: Redis | Cluster, alerter: Alerter, opts: { repeatSeconds: number }) {
  return {
    /** Sends the alert unless the same condition (`kind` and `condition`) was alerted within the repeat time. */
    async send(alert: Alert, condition: string): Promise<void> {
      const key = `lifeline:alert:${alert.kind}:${condition}`;
      const due =
        opts.repeatSeconds === 0 ||
        (await redis.set(key, new Date().toISOString(), 'EX', opts.repeatSeconds, 'NX').then(
          (set) => set === 'OK',
          () => true,
        ));
      if (!due) return;
      // Not delivered (the webhook down): the next cycle tries again, not the next repeat time.
      if (!(await alerter.send(alert)) && opts.repeatSeconds > 0) await redis.del(key).catch(() => undefined);
    },
  };
}
