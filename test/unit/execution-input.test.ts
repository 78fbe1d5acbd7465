import { describe, expect, it } from 'vitest';
import { InvalidExecutionInputError } from '../../src/client/client-errors.js';
import { parseStartRequest } from '../../src/client/execution-input.js';
import { limits } from '../../src/contract/start-execution-schema.js';
import { parseScheduleRequest } from '../../src/client/schedule-input.js';
import { issueFields } from '../support/input-issues.js';

/** The error a call threw, or a marker when it did not throw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return 'did not throw';
  } catch (err) {
    return err;
  }
}

describe('parseStartRequest', () => {
  const valid = { agent: 'demo', prompt: 'succeed' };

  it('fills in the defaults and generates a readable, unique execution id', () => {
    const a = parseStartRequest(valid);
    const b = parseStartRequest(valid);
    expect(a.input).toMatchObject({ agent: 'demo', prompt: 'succeed', busyPolicy: 'queue', trigger: 'api' });
    expect(a.input.timeoutSeconds).toBeUndefined();
    expect(a.executionId).toMatch(/^demo-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(b.executionId).not.toBe(a.executionId);
  });

  it('keeps a given execution id and the optional fields', () => {
    const parsed = parseStartRequest({
      ...valid,
      executionId: 'nightly:2024-01-01@run.1',
      timeoutSeconds: 30,
      busyPolicy: 'skip',
      queueTimeoutSeconds: 5,
      trigger: 'schedule',
      scheduleId: 'nightly',
      metadata: { team: 'x' },
    });
    expect(parsed.executionId).toBe('nightly:2024-01-01@run.1');
    expect(parsed.input).toEqual({
      agent: 'demo',
      prompt: 'succeed',
      timeoutSeconds: 30,
      busyPolicy: 'skip',
      queueTimeoutSeconds: 5,
      trigger: 'schedule',
      scheduleId: 'nightly',
      metadata: { team: 'x' },
    });
  });

  it('names every invalid field in one error', () => {
    const err = thrownBy(() =>
      parseStartRequest({ agent: 'Not An Agent', prompt: '   ', timeoutSeconds: 0, busyPolicy: 'later', executionId: '-x' }),
    );
    expect(issueFields(err).sort()).toEqual(['agent', 'busyPolicy', 'executionId', 'prompt', 'timeoutSeconds']);
    expect((err as Error).message).toMatch(/^invalid execution input: /);
  });

  it('refuses misspelt fields by name instead of running on defaults', () => {
    const err = thrownBy(() => parseStartRequest({ agent: 'demo', prompt: 'hi', agnt: 'demo', timeout: 60 }));
    expect(err).toBeInstanceOf(InvalidExecutionInputError);
    expect(issueFields(err).sort()).toEqual(['agnt', 'timeout']);
    expect((err as Error).message).toContain('unknown field (misspelt?)');
  });

  it('bounds the prompt in UTF-8 bytes, not characters', () => {
    expect(parseStartRequest({ ...valid, prompt: 'a'.repeat(limits.promptBytes) }).input.prompt).toHaveLength(limits.promptBytes);
    expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, prompt: 'a'.repeat(limits.promptBytes + 1) })))).toEqual(['prompt']);
    // Two bytes each: within the limit in characters, over it in bytes.
    const accents = 'é'.repeat(limits.promptBytes / 2 + 1);
    expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, prompt: accents })))).toEqual(['prompt']);
  });

  /** The field takes the values at its bounds and refuses each bad one with exactly this message. */
  function expectBounds(field: 'idleTimeoutSeconds' | 'maxCostUsd', accepted: number[], refused: [unknown, string][]): void {
    for (const value of accepted) expect(parseStartRequest({ ...valid, [field]: value }).input[field]).toBe(value);
    for (const [value, message] of refused) {
      const err = thrownBy(() => parseStartRequest({ ...valid, [field]: value }));
      expect((err as InvalidExecutionInputError).issues).toEqual([{ field, message }]);
    }
  }

  it('bounds the idle timeout, naming the field and the limit', () => {
    expectBounds(
      'idleTimeoutSeconds',
      [5, 86_400],
      [
        [4, 'must be at least 5 s'],
        [86_401, 'must be at most 86400 s'],
        [7.5, 'must be a whole number of seconds'],
        ['30', 'must be a number of seconds'],
      ],
    );
  });

  it('bounds the budget in US dollars, naming the field and the limit', () => {
    expectBounds(
      'maxCostUsd',
      [0.25, 1_000_000],
      [
        [0, 'must be more than 0 USD'],
        [-1, 'must be more than 0 USD'],
        [1_000_001, 'must be at most 1000000 USD'],
        ['5', 'must be a number of US dollars'],
      ],
    );
  });

  it('accepts whole timeouts within the limits only', () => {
    const { min, max } = limits.timeoutSeconds;
    expect(parseStartRequest({ ...valid, timeoutSeconds: min }).input.timeoutSeconds).toBe(min);
    expect(parseStartRequest({ ...valid, timeoutSeconds: max }).input.timeoutSeconds).toBe(max);
    for (const timeoutSeconds of [min - 1, max + 1, 1.5, Number.NaN, '30']) {
      expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, timeoutSeconds })))).toEqual(['timeoutSeconds']);
    }
    for (const queueTimeoutSeconds of [0, 2.5]) {
      expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, queueTimeoutSeconds })))).toEqual(['queueTimeoutSeconds']);
    }
  });

  it('refuses oversized metadata, missing fields and input that is not an object', () => {
    const metadata = { blob: 'x'.repeat(limits.metadataBytes) };
    expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, metadata })))).toEqual(['metadata']);
    expect(issueFields(thrownBy(() => parseStartRequest({}))).sort()).toEqual(['agent', 'prompt']);
    expect(issueFields(thrownBy(() => parseStartRequest('run demo')))).toEqual(['(input)']);
  });

  it('says a field of the wrong type is of the wrong type, and refuses metadata that is not plain JSON', () => {
    expect((thrownBy(() => parseStartRequest({ agent: 'demo', prompt: 42 })) as InvalidExecutionInputError).issues).toEqual([
      { field: 'prompt', message: 'must be a string' },
    ]);
    const circular: Record<string, unknown> = { team: 'x' };
    circular.self = circular;
    expect((thrownBy(() => parseStartRequest({ ...valid, metadata: circular })) as InvalidExecutionInputError).issues).toEqual([
      { field: 'metadata', message: `must nest objects and arrays at most ${limits.metadataDepth} deep, without cycles` },
    ]);
    expect((thrownBy(() => parseStartRequest({ ...valid, metadata: { n: 1n } })) as InvalidExecutionInputError).issues).toEqual([
      { field: 'metadata', message: 'must be plain JSON (no cycles, no BigInt)' },
    ]);
  });

  it('refuses metadata nested deeper than the limit, however deep, with the field and the limit', () => {
    const nested = (depth: number) => {
      const root: Record<string, unknown> = {};
      let at = root;
      for (let i = 1; i < depth; i++) at = (at.a = {}) as Record<string, unknown>;
      return root;
    };
    expect(parseStartRequest({ ...valid, metadata: nested(limits.metadataDepth) }).input.metadata).toBeDefined();
    for (const depth of [limits.metadataDepth + 1, 4000, 100_000]) {
      expect((thrownBy(() => parseStartRequest({ ...valid, metadata: nested(depth) })) as InvalidExecutionInputError).issues).toEqual([
        { field: 'metadata', message: `must nest objects and arrays at most ${limits.metadataDepth} deep, without cycles` },
      ]);
    }
    // Shared all the way down (2^40 paths): checked in linear time.
    let shared: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) shared = { left: shared, right: shared };
    expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, metadata: shared })))).toEqual(['metadata']);
  });
});

describe('validation messages', () => {
  const issuesOf = (call: () => unknown) => {
    try {
      call();
    } catch (err) {
      if (err instanceof InvalidExecutionInputError) return err.issues;
      throw err;
    }
    throw new Error('accepted');
  };

  it('say each field once, in Lifeline’s own words, never a library’s', () => {
    const issues = [
      ...issuesOf(() =>
        parseStartRequest({
          agent: 7,
          tenant: 'Team A',
          timeoutSeconds: '60',
          queueTimeoutSeconds: 0.5,
          idleTimeoutSeconds: 'x',
          maxCostUsd: 'x',
          trigger: 'x'.repeat(65),
          scheduleId: '',
          busyPolicy: 'maybe',
        }),
      ),
      ...issuesOf(() => parseStartRequest({})),
      ...issuesOf(() => parseScheduleRequest({ scheduleId: 1, agent: 'a', prompt: 'p', cron: 5, paused: 'yes', note: 'n'.repeat(10_000) })),
    ];
    expect(issues.length).toBeGreaterThanOrEqual(14);
    for (const { field, message } of issues) {
      // `field: field must ...` says it twice; the message starts after the name.
      expect(message, field).not.toMatch(new RegExp(`^${field}\\b`));
      expect(message, field).not.toMatch(/Too (big|small)|expected|Invalid (input|option)/);
    }
  });
});
