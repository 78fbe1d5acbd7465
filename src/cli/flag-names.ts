import { InvalidExecutionInputError } from '../client/client-errors.js';
import { UsageError } from './cli-errors.js';

/** The request fields the CLI's flags set, by the flag an operator typed. */
export const requestFlags: Record<string, string> = {
  agent: '--agent',
  tenant: '--tenant',
  prompt: '--prompt',
  timeoutSeconds: '--timeout',
  idleTimeoutSeconds: '--idle-timeout',
  maxCostUsd: '--max-cost-usd',
  busyPolicy: '--busy-policy',
  executionId: '--id',
  queueTimeoutSeconds: '--queue-timeout',
  cron: '--cron',
  intervalSeconds: '--interval',
  timezone: '--timezone',
  overlap: '--overlap',
  note: '--note',
  paused: '--paused',
};

/**
 * A refusal of the client, said in the words of the command line: each field named by its flag,
 * in the list and in the messages (`give exactly one of --cron or --interval`). Any other error
 * passes as it is.
 */
export async function inFlagTerms<T>(what: string, call: () => Promise<T>, flags: Record<string, string> = requestFlags): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof InvalidExecutionInputError)) throw err;
    // Only the API's camelCase names: plain words (agent, prompt, cron) mean what they say in a message.
    const words = (text: string) => text.replace(/\b[a-z]+[A-Z][a-zA-Z]*\b/g, (word) => flags[word] ?? word);
    throw new UsageError(`invalid ${what}: ${err.issues.map((i) => `${flags[i.field] ?? i.field}: ${words(i.message)}`).join('; ')}`);
  }
}
