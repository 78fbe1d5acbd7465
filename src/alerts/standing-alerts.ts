import type { Cluster, Redis } from 'ioredis';
import type { Alert, Alerter } from './webhook.js';

export type StandingAlerts = ReturnType<typeof createStandingAlerts>;

/**
 * Alerts about a condition that lasts (an execution stuck, a build without workers, runs waiting
 * for a worker) come from every reconcile cycle that sees it, on whichever worker runs it. One
 * Redis key per condition, shared by every worker, lets each condition through once per
 * `repeatSeconds` while it lasts instead of once a cycle (0: every cycle). With Redis out of reach,
 * and for alerts about Redis itself (`localOnly`), this process' own memory de-duplicates instead:
 * each worker then alerts once per repeat time, never silenced by the store it alerts about.
 */
export function createStandingAlerts(redis: Redis | Cluster, alerter: Alerter, opts: { repeatSeconds: number }) {
  /** Condition key → until when it stays quiet, for when Redis cannot say. */
  const local = new Map<string, number>();
  const dueLocally = (key: string): boolean => {
    const now = Date.now();
    for (const [k, until] of local) if (until <= now) local.delete(k);
    if (local.has(key)) return false;
    local.set(key, now + opts.repeatSeconds * 1000);
    return true;
  };
  return {
    /** Sends the alert unless the same condition (`kind` and `condition`) was alerted within the repeat time. */
    async send(alert: Alert, condition: string, { localOnly = false }: { localOnly?: boolean } = {}): Promise<void> {
      const key = `lifeline:alert:${alert.kind}:${condition}`;
      const due =
        opts.repeatSeconds === 0 ||
        (localOnly
          ? dueLocally(key)
          : await redis.set(key, new Date().toISOString(), 'EX', opts.repeatSeconds, 'NX').then(
              (set) => set === 'OK',
              () => dueLocally(key),
            ));
      if (!due) return;
      // Not delivered (the webhook down): the next cycle tries again, not the next repeat time.
      if (!(await alerter.send(alert)) && opts.repeatSeconds > 0) {
        local.delete(key);
        if (!localOnly) await redis.del(key).catch(() => undefined);
      }
    },
  };
}
