import { describe, expect, it } from 'vitest';
import { parseDemoPrompt } from '../../src/agent-server/demo-behaviour.js';

describe('parseDemoPrompt', () => {
  it('reads succeed with seconds and text', () => {
    expect(parseDemoPrompt('succeed 2 hello  world')).toEqual({
      kind: 'succeed',
      seconds: 2,
      text: 'hello world',
    });
    expect(parseDemoPrompt('succeed 0.5')).toEqual({ kind: 'succeed', seconds: 0.5, text: '' });
    expect(parseDemoPrompt('succeed')).toEqual({ kind: 'succeed', seconds: 0, text: '' });
  });

  it('treats a non-numeric first argument of succeed as text', () => {
    expect(parseDemoPrompt('succeed hello world')).toEqual({
      kind: 'succeed',
      seconds: 0,
      text: 'hello world',
    });
    expect(parseDemoPrompt('succeed -3 x')).toEqual({ kind: 'succeed', seconds: 0, text: '-3 x' });
  });

  it('reads progress with a length in seconds, defaulting to 5', () => {
    expect(parseDemoPrompt('progress 8')).toEqual({ kind: 'progress', seconds: 8 });
    expect(parseDemoPrompt('progress')).toEqual({ kind: 'progress', seconds: 5 });
  });

  it('reads fail with an exit code, defaulting to 1 when the code is missing or not a failure code', () => {
    expect(parseDemoPrompt('fail 3')).toEqual({ kind: 'fail', code: 3 });
    expect(parseDemoPrompt('fail')).toEqual({ kind: 'fail', code: 1 });
    expect(parseDemoPrompt('fail 0')).toEqual({ kind: 'fail', code: 1 });
    expect(parseDemoPrompt('fail 256')).toEqual({ kind: 'fail', code: 1 });
    expect(parseDemoPrompt('fail 2.5')).toEqual({ kind: 'fail', code: 1 });
    expect(parseDemoPrompt('fail now')).toEqual({ kind: 'fail', code: 1 });
  });

  it('reads the argument-free behaviours', () => {
    expect(parseDemoPrompt('hang')).toEqual({ kind: 'hang' });
    expect(parseDemoPrompt('ignore-term')).toEqual({ kind: 'ignore-term' });
    expect(parseDemoPrompt('crash')).toEqual({ kind: 'crash' });
    expect(parseDemoPrompt('  hang  ')).toEqual({ kind: 'hang' });
  });

  it('reads big-output with a size in megabytes, defaulting to 5', () => {
    expect(parseDemoPrompt('big-output 1.5')).toEqual({ kind: 'big-output', megabytes: 1.5 });
    expect(parseDemoPrompt('big-output')).toEqual({ kind: 'big-output', megabytes: 5 });
    expect(parseDemoPrompt('big-output lots')).toEqual({ kind: 'big-output', megabytes: 5 });
  });

  it('echoes any other prompt whole', () => {
    const prompt = 'Summarise the incident report\nand list follow-ups';
    expect(parseDemoPrompt(prompt)).toEqual({ kind: 'succeed', seconds: 0, text: prompt });
    expect(parseDemoPrompt('Hang on a second')).toEqual({
      kind: 'succeed',
      seconds: 0,
      text: 'Hang on a second',
    });
  });
});
