import { describe, expect, it } from 'vitest';
import { allowedFrom, canTransition, executionStatuses, isTerminal, terminalStatuses } from '../../src/domain/execution-status.js';

describe('the execution state machine', () => {
  it('moves forward only: queued to running or an ending, running to an ending, nothing out of an ending', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('queued', 'skipped')).toBe(true);
    expect(canTransition('running', 'succeeded')).toBe(true);
    expect(canTransition('running', 'queued')).toBe(false);
    expect(canTransition('running', 'skipped')).toBe(false);
    for (const from of terminalStatuses) {
      for (const to of executionStatuses) expect(canTransition(from, to), `${from} -> ${to}`).toBe(false);
    }
  });

  it('guards each write with exactly the statuses it may come from', () => {
    expect(allowedFrom('running')).toEqual(['queued']);
    expect(allowedFrom('succeeded')).toEqual(['running']);
    expect(allowedFrom('cancelled').sort()).toEqual(['queued', 'running']);
    expect(allowedFrom('queued')).toEqual([]);
  });

  it('calls exactly the five endings terminal', () => {
    expect(executionStatuses.filter(isTerminal)).toEqual([...terminalStatuses]);
  });
});
