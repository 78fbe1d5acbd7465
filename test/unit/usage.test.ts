import { describe, expect, it } from 'vitest';
import { demoOutputTokensCosting, demoUsage, parseDemoPrompt } from '../../src/agent-server/demo-behaviour.js';
import { createUsageScanner } from '../../src/agent-server/usage-lines.js';
import { costOverBudget, type UsageReport } from '../../src/domain/usage.js';
import { agentExecution } from '../../src/agent/protocol.js';

function scan(chunks: (string | Buffer)[]): { reports: UsageReport[]; invalid: string[] } {
  const reports: UsageReport[] = [];
  const invalid: string[] = [];
  const feed = createUsageScanner(
    (u) => reports.push(u),
    (why) => invalid.push(why),
  );
  for (const chunk of chunks) feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { reports, invalid };
}

describe('usage lines on a command’s standard output', () => {
  it('reads every complete usage line, whatever the chunk boundaries', () => {
    const line = 'LIFELINE_USAGE {"inputTokens":10,"cost":{"amount":0.5,"currency":"USD"},"model":"m-é"}\n';
    const bytes = Buffer.from(`hello\n${line}more output\r\nLIFELINE_USAGE {"outputTokens":3}\r\n`);
    // Split one byte at a time, so the é is cut between two chunks too.
    const { reports, invalid } = scan([...bytes].map((b) => Buffer.from([b])));
    expect(reports).toEqual([{ inputTokens: 10, cost: { amount: 0.5, currency: 'USD' }, model: 'm-é' }, { outputTokens: 3 }]);
    expect(invalid).toEqual([]);
  });

  it('waits for the end of a line before reading it', () => {
    expect(scan(['LIFELINE_USAGE {"inputTokens":1}']).reports).toEqual([]);
  });

  it('ignores other lines and reports malformed usage lines', () => {
    const { reports, invalid } = scan([
      'usage: LIFELINE_USAGE {"inputTokens":1}\nLIFELINE_USAGE nope\nLIFELINE_USAGE {"inputTokens":-1}\nLIFELINE_USAGE {"cost":{"amount":1,"currency":"usd"}}\n',
    ]);
    expect(reports).toEqual([]);
    expect(invalid).toHaveLength(3);
    expect(invalid[0]).toBe('not JSON');
    expect(invalid[2]).toMatch(/cost.currency: must be an ISO 4217 code/);
  });

  it('skips a line too long to be a usage report without holding it', () => {
    const { reports } = scan([`LIFELINE_USAGE {"model":"${'x'.repeat(20_000)}`, '"}\nLIFELINE_USAGE {"inputTokens":2}\n']);
    expect(reports).toEqual([{ inputTokens: 2 }]);
  });
});

describe('a budget in US dollars', () => {
  const costing = (amount: number, currency = 'USD'): UsageReport => ({ cost: { amount, currency } });

  it('is exceeded by a reported cost above it, not at it', () => {
    expect(costOverBudget(costing(1.01), 1)).toBe(1.01);
    expect(costOverBudget(costing(1), 1)).toBeUndefined();
  });

  it('cannot be judged without a budget, without a cost, or with a cost in another currency', () => {
    expect(costOverBudget(costing(5), undefined)).toBeUndefined();
    expect(costOverBudget({ inputTokens: 1_000_000 }, 1)).toBeUndefined();
    expect(costOverBudget(undefined, 1)).toBeUndefined();
    expect(costOverBudget(costing(5, 'EUR'), 1)).toBeUndefined();
  });
});

describe("the demo agent's usage", () => {
  it('prices tokens consistently, in whole micro-dollars', () => {
    expect(demoUsage(1000, 2000)).toEqual({
      inputTokens: 1000,
      outputTokens: 2000,
      cost: { amount: 0.033, currency: 'USD' },
      model: 'demo-1',
    });
  });

  it('spends at least what `spend` asks for', () => {
    expect(parseDemoPrompt('spend 2.5')).toEqual({ kind: 'spend', usd: 2.5 });
    expect(parseDemoPrompt('spend')).toEqual({ kind: 'spend', usd: 1 });
    const usage = demoUsage(0, demoOutputTokensCosting(2.5));
    expect(usage.cost!.amount).toBeGreaterThanOrEqual(2.5);
    expect(usage.cost!.amount).toBeLessThan(2.5001);
  });
});

describe('usage as an agent sends it', () => {
  const base = { id: 'e1', status: 'running', startedAt: '2026-12-01T00:00:00.000Z' };

  it('drops fields Lifeline does not know and keeps the rest', () => {
    const usage = { inputTokens: 10, cacheReadTokens: 4, cost: { amount: 0.5, currency: 'USD', exact: true }, model: 'm' };
    expect(agentExecution.parse({ ...base, usage }).usage).toEqual({ inputTokens: 10, cost: { amount: 0.5, currency: 'USD' }, model: 'm' });
  });

  it('drops a report it cannot read, never the execution document', () => {
    const parsed = agentExecution.safeParse({ ...base, usage: { inputTokens: -1, cost: { amount: 1, currency: 'usd' } } });
    expect(parsed.success).toBe(true);
    expect(parsed.data?.usage).toBeUndefined();
  });
});
