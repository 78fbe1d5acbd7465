import { describe, expect, it } from 'vitest';
import { OutputTail } from '../../src/agent-server/output-tail.js';
import { outputAfter } from '../../src/cli/execution-logs.js';
import { outputTail } from '../../src/store/output-cap.js';

describe("the reference agent server's output tail", () => {
  it('keeps the last bytes across many small chunks', () => {
    const tail = new OutputTail(10);
    for (const c of 'abcdefghijklmnopqrstuvwxyz') tail.add(Buffer.from(c));
    expect(tail.text()).toBe('qrstuvwxyz');
  });

  it('starts on a whole character when the cut falls inside one', () => {
    const tail = new OutputTail(4);
    tail.add(Buffer.from('xxé€'));
    // 'é€' is 2 + 3 bytes: the last 4 bytes begin inside é.
    expect(tail.text()).toBe('€');
  });
});

describe("a running row's output tail", () => {
  it('is bounded in bytes, on whole characters, without NUL', () => {
    expect(outputTail('abc\u0000', 10)).toBe('abc\uFFFD');
    expect(outputTail('ééé', 3)).toBe('é');
  });
});

describe('what `executions logs --follow` prints next', () => {
  const running = (output: string, outputBytes: number) => ({ status: 'running' as const, output, outputBytes, outputTruncated: true });
  const text = (next: { chunk: Buffer }) => next.chunk.toString();

  it('prints only what is new in a running row’s tail', () => {
    expect(outputAfter(running('line 1\n', 7), 0)).toEqual({ chunk: Buffer.from('line 1\n'), printed: 7 });
    expect(text(outputAfter(running('1\nline 2\n', 14), 7))).toBe('line 2\n');
    expect(text(outputAfter(running('1\nline 2\n', 14), 14))).toBe('');
  });

  it('says how much it could not show when the tail moved past what was printed', () => {
    expect(text(outputAfter(running('tail\n', 100), 7))).toBe('[lifeline: 88 bytes not shown]\ntail\n');
    expect(text(outputAfter(running('tail\n', 100), 0))).toBe('[lifeline: 95 bytes not shown]\ntail\n');
  });

  it('prints the rest of a finished output from where it left off', () => {
    const finished = { status: 'succeeded' as const, output: 'one\ntwo\n', outputBytes: 8, outputTruncated: false };
    expect(text(outputAfter(finished, 4))).toBe('two\n');
    expect(text(outputAfter(finished, 0))).toBe('one\ntwo\n');
    expect(text(outputAfter({ ...finished, outputTruncated: true, outputBytes: 5_000_000 }, 4))).toMatch(
      /the rest of the output was not kept/,
    );
  });

  it('prints nothing before there is output', () => {
    expect(outputAfter({ status: 'running', output: null, outputBytes: 12, outputTruncated: false }, 0).chunk).toHaveLength(0);
  });
});
