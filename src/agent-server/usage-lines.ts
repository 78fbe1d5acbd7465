import { StringDecoder } from 'node:string_decoder';
import { usageReport, type UsageReport } from '../domain/usage.js';

/**
 * How a command run by the reference agent server reports usage: a line on its usage channel, file
 * descriptor `usageFd` (named in its environment as LIFELINE_USAGE_FD), that starts with this prefix
 * and goes on with a JSON usage report (src/domain/usage.ts), such as
 * `LIFELINE_USAGE {"inputTokens":1200,"outputTokens":340,"cost":{"amount":0.0087,"currency":"USD"},"model":"m"}`.
 * Each report holds the run's totals so far; the last one counts. Never read from standard output:
 * there a model's text, or a prompt an agent echoes, could forge a cost that defeats a budget.
 */
export const usageLinePrefix = 'LIFELINE_USAGE ';
export const usageFd = 3;

/** A longer line cannot be a usage report; it is skipped without being held in memory. */
const maxLineChars = 16 * 1024;

/**
 * Scans the usage channel chunk by chunk for usage lines, whatever the chunks' boundaries (a line
 * may arrive in pieces, a character split between two chunks). Malformed reports go to `onInvalid`.
 */
export function createUsageScanner(onUsage: (usage: UsageReport) => void, onInvalid: (reason: string) => void) {
  const decoder = new StringDecoder('utf8');
  let line = '';
  let overlong = false;
  const take = (complete: string) => {
    if (!complete.startsWith(usageLinePrefix)) return;
    let json: unknown;
    try {
      json = JSON.parse(complete.slice(usageLinePrefix.length));
    } catch {
      return onInvalid('not JSON');
    }
    const parsed = usageReport.safeParse(json);
    if (parsed.success) onUsage(parsed.data);
    else onInvalid(parsed.error.issues.map((i) => `${i.path.join('.') || '(report)'}: ${i.message}`).join('; '));
  };
  return (chunk: Buffer): void => {
    const pieces = decoder.write(chunk).split('\n');
    const rest = pieces.pop()!;
    for (const piece of pieces) {
      if (!overlong) take((line + piece).replace(/\r$/, ''));
      line = '';
      overlong = false;
    }
    line += rest;
    if (line.length > maxLineChars) {
      line = '';
      overlong = true;
    }
  };
}
