import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../util/logger.js';

export interface Alert {
  /** execution_failed | execution_timed_out | execution_recovered | reconciler_degraded | runs_waiting_for_worker | execution_stuck | current_build_without_workers */
  kind: string;
  summary: string;
  executionId?: string;
  agent?: string;
  details?: Record<string, unknown>;
  /** Where an operator can look: the Temporal UI page of the workflow, when known. */
  link?: string;
}

export interface Alerter {
  send(alert: Alert): Promise<boolean>;
}

export interface WebhookOptions {
  url: string;
  attempts?: number;
  timeoutMs?: number;
  firstBackoffMs?: number;
  log: Logger;
}

/**
 * Posts alerts as JSON to a webhook, retrying with exponential backoff. Never throws: an alert
 * that cannot be delivered is logged, it does not change what happened to an execution.
 */
export function webhookAlerter({ url, attempts = 4, timeoutMs = 5000, firstBackoffMs = 500, log }: WebhookOptions): Alerter {
  return {
    async send(alert) {
      const body = JSON.stringify({ source: 'lifeline', at: new Date().toISOString(), ...alert });
      let backoff = firstBackoffMs;
      for (let attempt = 1; attempt <= attempts; attempt += 1) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (res.ok) return true;
          log.warn({ status: res.status, attempt, kind: alert.kind }, 'alert webhook refused the alert');
        } catch (err) {
          log.warn({ err: (err as Error).message, attempt, kind: alert.kind }, 'alert webhook unreachable');
        }
        if (attempt < attempts) {
          await delay(backoff);
          backoff *= 2;
        }
      }
      log.error({ kind: alert.kind, executionId: alert.executionId }, 'alert not delivered');
      return false;
    },
  };
}

/** Used when no webhook is configured: alerts become log lines. */
export function logAlerter(log: Logger): Alerter {
  return {
    async send(alert) {
      log.warn({ alert }, alert.summary);
      return true;
    },
  };
}
