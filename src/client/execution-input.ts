import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { ExecutionInput } from '../contract/execution-contract.js';
import { startExecutionSchema } from '../contract/start-execution-schema.js';
import { InvalidExecutionInputError } from './client-errors.js';

/** A readable, unique execution id: the agent and the start time are visible in the Temporal UI. */
export function newExecutionId(agent: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${agent}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The zod issues as one error naming each invalid field. */
export function invalidInput(error: z.ZodError): InvalidExecutionInputError {
  return new InvalidExecutionInputError(
    error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({ field: [...i.path, key].join('.'), message: 'unknown field (misspelt?)' }))
        : [{ field: i.path.join('.') || '(input)', message: i.message }],
    ),
  );
}

/** Validates a start request; every invalid field is named in one error. */
export function parseStartRequest(raw: unknown): { executionId: string; input: ExecutionInput } {
  const parsed = startExecutionSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { executionId, ...input } = parsed.data;
  return { executionId: executionId ?? newExecutionId(input.agent), input };
}
