import type { Logger } from './logger.js';

/** Conditions remembered at most: a flood of distinct keys (one per hostile agent name, say) costs bounded memory. */
const maxConditions = 10_000;

export type RepeatedWarnings = ReturnType<typeof createRepeatedWarnings>;

/**
 * Warnings about a lasting condition (a token that does not resolve, Redis down) that code meets on
 * every cycle or poll: each condition, named by `key`, is logged once a window (an hour), the next
 * time with how many times it was met meanwhile. A condition gone and back within the window stays quiet.
 */
export function createRepeatedWarnings(opts: { windowMs?: number; clock?: () => number } = {}) {
  const windowMs = opts.windowMs ?? 3_600_000;
  const clock = opts.clock ?? Date.now;
  const conditions = new Map<string, { quietUntil: number; suppressed: number }>();
  return {
    warn(log: Logger, key: string, fields: Record<string, unknown>, message: string): void {
      const now = clock();
      const seen = conditions.get(key);
      if (seen && now < seen.quietUntil) {
        seen.suppressed += 1;
        return;
      }
      const suppressed = seen?.suppressed ?? 0;
      conditions.delete(key);
      if (conditions.size >= maxConditions) conditions.delete(conditions.keys().next().value!);
      conditions.set(key, { quietUntil: now + windowMs, suppressed: 0 });
      const window = `${Math.round(windowMs / 60_000)} min`;
      log.warn(
        { ...fields, ...(suppressed > 0 ? { repeats: suppressed } : {}) },
        suppressed > 0
          ? `${message} (met ${suppressed} more times in the last ${window}; logged at most once every ${window})`
          : `${message} (logged at most once every ${window} while it lasts)`,
      );
    },
  };
}
