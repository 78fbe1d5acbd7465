import { expect } from 'vitest';
import { InvalidExecutionInputError } from '../../src/client/client-errors.js';

/** The fields an input refusal names, failing the test when `err` is no such refusal. */
export function issueFields(err: unknown): string[] {
  expect(err).toBeInstanceOf(InvalidExecutionInputError);
  return (err as InvalidExecutionInputError).issues.map((i) => i.field);
}
