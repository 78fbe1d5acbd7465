import { runLimitFields } from '../domain/run-limits.js';
import { unstorableTextMessage } from '../domain/storable-text.js';
import type { ExecutionInput } from './execution-contract.js';
import { executionInputSchema } from './execution-contract-schemas.js';

/** Refused input that admission still records, as a row that ends `failed/invalid_input` saying why. */
const recordedAsRejection = (issue: { path: PropertyKey[]; message: string }) =>
  issue.message.includes(unstorableTextMessage) || String(issue.path[0]) in runLimitFields;

/**
 * An input as admission takes it from any client (another SDK, a hand-made start): with the
 * contract's defaults for what it leaves out, or, when it breaks the contract beyond what admission
 * records in a row (a misspelt field, a value of the wrong type or out of range), one line naming
 * each field.
 */
export function admissibleInput(input: Record<string, unknown>): { input: ExecutionInput } | { violations: string } {
  const parsed = executionInputSchema.safeParse(input);
  if (parsed.success) return { input: parsed.data };
  const issues = parsed.error.issues.filter((issue) => !recordedAsRejection(issue));
  if (issues.length > 0) {
    const named = issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => `${key}: unknown field (misspelt?)`)
        : [`${i.path.join('.') || '(input)'}: ${i.message}`],
    );
    return { violations: named.join('; ') };
  }
  const defaults = executionInputSchema.pick({ busyPolicy: true, trigger: true }).parse({});
  return { input: { ...defaults, ...(input as Partial<ExecutionInput>) } as ExecutionInput };
}
