import { setTimeout as delay } from 'node:timers/promises';

export interface SampleWindow<T> {
  /** Ends the window after one more read; resolves with every read taken, or rejects with the first that failed. */
  stop(): Promise<T[]>;
}

/**
 * Reads `sample` over and over until `stop()`: for a "never" that must hold over a stretch of time,
 * which one read at the end would see at a single instant only.
 */
export function sampleWindow<T>(sample: () => Promise<T>, intervalMs = 50): SampleWindow<T> {
  const samples: T[] = [];
  let stopping = false;
  const loop = (async () => {
    for (;;) {
      const last = stopping;
      samples.push(await sample());
      if (last) return samples;
      await delay(intervalMs);
    }
  })();
  // Reported by stop(), not as an unhandled rejection while the test is still busy.
  loop.catch(() => undefined);
  return {
    async stop() {
      stopping = true;
      return loop;
    },
  };
}
