import type { UsageReport } from '../domain/usage.js';

/**
 * What the demo agent does for a prompt. The prompt's first word picks the behaviour so that
 * demos and tests can produce every way an agent run can end, deterministically.
 */
export type DemoBehaviour =
  | { kind: 'succeed'; seconds: number; text: string }
  | { kind: 'progress'; seconds: number }
  | { kind: 'spend'; usd: number }
  | { kind: 'charge'; usd: number }
  | { kind: 'fail'; code: number }
  | { kind: 'hang' }
  | { kind: 'ignore-term' }
  | { kind: 'big-output'; megabytes: number }
  | { kind: 'crash' };

/**
 * `succeed [seconds=0] [text...]`, `progress [seconds=5]` (a line a second, then success), `fail [code=1]`,
 * `hang` (one line, then silence until signalled: a stalled run), `spend [usd=1]` (reports that cost,
 * then hangs like `hang`), `charge [usd=1]` (reports that cost and succeeds at once), `ignore-term`,
 * `big-output [megabytes=5]`, `crash`; any other prompt is echoed as `succeed 0 <prompt>`.
 * A numeric argument that does not parse falls back to its default (for `succeed`, it is text).
 */
export function parseDemoPrompt(prompt: string): DemoBehaviour {
  const [word, ...args] = prompt.trim().split(/\s+/);
  const first = args[0];
  switch (word) {
    case 'succeed': {
      const seconds = nonNegativeNumber(first);
      return seconds === undefined
        ? { kind: 'succeed', seconds: 0, text: args.join(' ') }
        : { kind: 'succeed', seconds, text: args.slice(1).join(' ') };
    }
    case 'progress':
      return { kind: 'progress', seconds: nonNegativeNumber(first) ?? 5 };
    case 'spend':
    case 'charge':
      return { kind: word, usd: nonNegativeNumber(first) ?? 1 };
    case 'fail': {
      const code = Number(first);
      // Exit codes are one byte and 0 would not be a failure.
      return { kind: 'fail', code: Number.isInteger(code) && code >= 1 && code <= 255 ? code : 1 };
    }
    case 'hang':
      return { kind: 'hang' };
    case 'ignore-term':
      return { kind: 'ignore-term' };
    case 'big-output': {
      const megabytes = nonNegativeNumber(first);
      return { kind: 'big-output', megabytes: megabytes ?? 5 };
    }
    case 'crash':
      return { kind: 'crash' };
    default:
      return { kind: 'succeed', seconds: 0, text: prompt };
  }
}

function nonNegativeNumber(arg: string | undefined): number | undefined {
  if (arg === undefined || arg === '') return undefined;
  const n = Number(arg);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** The demo's made-up model and prices (USD per token), so its usage reports are fake but consistent. */
const demoModel = 'demo-1';
const usdPerInputToken = 3 / 1_000_000;
const usdPerOutputToken = 15 / 1_000_000;

/** About four bytes of text per token, as for English with real tokenizers. */
export function demoTokens(bytes: number): number {
  return Math.ceil(bytes / 4);
}

/** The demo's usage report for so many tokens: the cost follows from the prices, in whole micro-dollars. */
export function demoUsage(inputTokens: number, outputTokens: number): UsageReport {
  const amount = Math.round((inputTokens * usdPerInputToken + outputTokens * usdPerOutputToken) * 1_000_000) / 1_000_000;
  return { inputTokens, outputTokens, cost: { amount, currency: 'USD' }, model: demoModel };
}

/** The output tokens whose price reaches `usd`: what `spend` reports. */
export function demoOutputTokensCosting(usd: number): number {
  return Math.ceil(usd / usdPerOutputToken);
}
