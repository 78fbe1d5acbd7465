import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { admissibleInput } from '../../src/contract/foreign-input.js';
import { agentExecution } from '../../src/workflows/agent-execution.js';
import { executionWorkflowType } from '../../src/contract/execution-contract.js';
import { contractSchemaFile, contractSchemaText } from '../../tools/contract/write-schema.js';
import { firstReleaseInput } from '../support/recorded-histories.js';

const committed = JSON.parse(readFileSync(contractSchemaFile, 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true, keywords: ['x-lifeline'] });
const validator = (definition: string) => ajv.compile({ ...committed, $ref: `#/$defs/${definition}` });

describe('the published contract (contract/execution.schema.json)', () => {
  it('is what the code generates: regenerate it with `npm run contract:schema` after a change', () => {
    expect(readFileSync(contractSchemaFile, 'utf8')).toBe(contractSchemaText());
  });

  it('names the type the workflow is registered under', () => {
    expect(agentExecution.name).toBe(executionWorkflowType);
    expect((committed['x-lifeline'] as Record<string, unknown>).workflowType).toBe(executionWorkflowType);
  });

  it('takes the input the first release started an execution with', () => {
    const input = validator('ExecutionInput');
    expect(input(firstReleaseInput()), JSON.stringify(input.errors)).toBe(true);
  });

  it('refuses a misspelt field, a missing one and a value out of range, naming each', () => {
    const input = validator('ExecutionInput');
    expect(input({ agent: 'coder', prompt: 'p', busyPolicy: 'queue', trigger: 'api', timeout: 5 })).toBe(false);
    expect(input.errors?.[0]).toMatchObject({ keyword: 'additionalProperties', params: { additionalProperty: 'timeout' } });
    expect(input({ agent: 'coder', trigger: 'api' })).toBe(false);
    expect(input.errors?.[0]).toMatchObject({ keyword: 'required', params: { missingProperty: 'prompt' } });
    expect(input({ agent: 'coder', prompt: 'p', busyPolicy: 'queue', trigger: 'api', timeoutSeconds: 0 })).toBe(false);
    expect(input.errors?.[0]).toMatchObject({ instancePath: '/timeoutSeconds', keyword: 'minimum' });
  });

  it('describes the result, the live state and the stop signal as the workflow sends and takes them', () => {
    expect(validator('ExecutionResult')({ executionId: 'e', status: 'failed', errorKind: 'agent_failed', error: 'exit 1' })).toBe(true);
    expect(validator('ExecutionLiveState')({ executionId: 'e', agent: 'coder', phase: 'running', status: 'running' })).toBe(true);
    expect(validator('StopSignal')({ reason: 'no longer needed' })).toBe(true);
    expect(validator('StopSignal')({})).toBe(false);
  });

  it('gives a start from another SDK the defaults it left out, and names each field that breaks the contract', () => {
    expect(admissibleInput(firstReleaseInput())).toEqual({ input: firstReleaseInput() });
    expect(admissibleInput({ agent: 'coder', prompt: 'p' })).toEqual({
      input: { agent: 'coder', prompt: 'p', busyPolicy: 'queue', trigger: 'api' },
    });
    expect(admissibleInput({ agent: 'coder', prompt: 'p', timeout: 5, busyPolicy: 'later' })).toEqual({
      violations: "busyPolicy: must be 'skip' or 'queue'; timeout: unknown field (misspelt?)",
    });
    // A NUL in the prompt and an idle timeout out of range are admitted, to end the row failed/invalid_input saying so.
    expect(admissibleInput({ agent: 'coder', prompt: 'p\u0000', idleTimeoutSeconds: 1 })).toEqual({
      input: { agent: 'coder', prompt: 'p\u0000', idleTimeoutSeconds: 1, busyPolicy: 'queue', trigger: 'api' },
    });
  });
});
