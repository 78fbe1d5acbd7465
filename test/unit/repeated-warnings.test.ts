import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';
import { createRepeatedWarnings } from '../../src/util/repeated-warnings.js';

function capture() {
  const lines: { msg: string; repeats?: number; agent?: string }[] = [];
  const log = createLogger('test', 'info', { write: (line: string) => void lines.push(JSON.parse(line) as never) });
  return { log, lines };
}

describe('repeated warnings', () => {
  it('logs a lasting condition once an hour, then with how often it was met meanwhile', () => {
    let now = 0;
    const warnings = createRepeatedWarnings({ clock: () => now });
    const { log, lines } = capture();
    // A reconcile cycle a minute for 11 minutes, on the same misconfigured agent.
    for (let minute = 0; minute < 72; minute++) {
      now = minute * 60_000;
      warnings.warn(log, 'token:coder', { agent: 'coder' }, 'cannot call the agent');
    }
    expect(lines.map((l) => l.msg)).toEqual([
      'cannot call the agent (logged at most once every 60 min while it lasts)',
      'cannot call the agent (met 59 more times in the last 60 min; logged at most once every 60 min)',
    ]);
    expect(lines[1]).toMatchObject({ agent: 'coder', repeats: 59 });
  });

  it('keeps conditions apart', () => {
    const warnings = createRepeatedWarnings({ clock: () => 0 });
    const { log, lines } = capture();
    for (const agent of ['a', 'b', 'a', 'b']) warnings.warn(log, `token:${agent}`, { agent }, 'cannot call the agent');
    expect(lines.map((l) => l.agent)).toEqual(['a', 'b']);
  });
});
