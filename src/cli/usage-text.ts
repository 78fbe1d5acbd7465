import type { UsageReport } from '../domain/usage.js';

/** `0.0087 USD`, or empty when the agent reported no cost. */
export function costText(usage: UsageReport | null): string {
  return usage?.cost ? `${usage.cost.amount} ${usage.cost.currency}` : '';
}

/** One line of what the agent last reported: `1200 input + 340 output tokens, 0.0087 USD, model m`. */
export function usageText(usage: UsageReport | null): string | undefined {
  if (!usage) return undefined;
  const tokens = [
    usage.inputTokens !== undefined && `${usage.inputTokens} input`,
    usage.outputTokens !== undefined && `${usage.outputTokens} output`,
  ].filter((part): part is string => typeof part === 'string');
  const parts = [tokens.length > 0 && `${tokens.join(' + ')} tokens`, costText(usage), usage.model && `model ${usage.model}`];
  return parts.filter((part): part is string => typeof part === 'string' && part !== '').join(', ');
}
