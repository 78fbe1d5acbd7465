import { describe, expect, it } from 'vitest';
import { createProgressWatch } from '../../src/activities/progress-watch.js';
import type { AgentExecution } from '../../src/agent/protocol.js';

const startedAt = '2030-01-01T00:00:00.000Z';
const running = (extra: Partial<AgentExecution> = {}): AgentExecution => ({ id: 'e', status: 'running', startedAt, ...extra });
const reporting = (outputBytes: number, lastProgressAt = startedAt) => running({ outputBytes, lastProgressAt });

describe('the idle timeout of a run', () => {
  it('judges a run stalled once its progress report has not changed for the idle timeout', () => {
    const watch = createProgressWatch(10, undefined);
    expect(watch.observe(reporting(5), 0)).toBeUndefined();
    expect(watch.observe(reporting(5), 9_999)).toBeUndefined();
    expect(watch.observe(reporting(5), 10_000)).toEqual({ idleSeconds: 10, lastProgressAt: startedAt, outputBytes: 5 });
  });

  it('counts from the last change of either output bytes or the progress time', () => {
    const watch = createProgressWatch(10, undefined);
    watch.observe(reporting(5), 0);
    expect(watch.observe(reporting(6), 8_000)).toBeUndefined();
    expect(watch.observe(reporting(6, '2030-01-01T00:00:09.000Z'), 16_000)).toBeUndefined();
    expect(watch.observe(reporting(6, '2030-01-01T00:00:09.000Z'), 25_999)).toBeUndefined();
    expect(watch.observe(reporting(6, '2030-01-01T00:00:09.000Z'), 26_000)).toMatchObject({ idleSeconds: 10 });
  });

  it("times the idle run on the worker's clock, whatever the agent's timestamps say", () => {
    const watch = createProgressWatch(10, undefined);
    // A progress time an hour in the past (a skewed agent clock) does not count as an hour of idleness.
    expect(watch.observe(reporting(5, '2029-12-31T23:00:00.000Z'), 0)).toBeUndefined();
  });

  it('never judges an agent that reports no progress, nor a run without an idle timeout', () => {
    const silent = createProgressWatch(10, undefined);
    expect(silent.observe(running({ outputBytes: 5 }), 0)).toBeUndefined();
    expect(silent.observe(running({ outputBytes: 5 }), 3_600_000)).toBeUndefined();
    const unlimited = createProgressWatch(undefined, undefined);
    unlimited.observe(reporting(5), 0);
    expect(unlimited.observe(reporting(5), 3_600_000)).toBeUndefined();
  });

  it('never judges a run that has ended', () => {
    const watch = createProgressWatch(10, undefined);
    watch.observe(reporting(5), 0);
    expect(watch.observe({ ...reporting(5), status: 'succeeded' }, 60_000)).toBeUndefined();
  });

  it('goes on from the mark a previous attempt left in its heartbeat', () => {
    const first = createProgressWatch(10, undefined);
    first.observe(reporting(5), 0);
    const reattached = createProgressWatch(10, first.mark);
    expect(reattached.observe(reporting(5), 10_000)).toMatchObject({ idleSeconds: 10 });
  });

  it('shortens a long poll so that a stall is seen when it is due', () => {
    const watch = createProgressWatch(10, undefined);
    expect(watch.waitSeconds(10, 0)).toBe(10);
    watch.observe(reporting(5), 0);
    expect(watch.waitSeconds(10, 7_500)).toBe(3);
    expect(watch.waitSeconds(10, 12_000)).toBe(1);
    expect(createProgressWatch(undefined, undefined).waitSeconds(10, 0)).toBe(10);
  });
});
