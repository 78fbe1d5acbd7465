import { z } from 'zod';
import { limits, startExecutionSchema } from './start-execution-schema.js';
import { errorKinds, executionStatuses, terminalStatuses } from '../domain/execution-status.js';
import type { ExecutionInput, ExecutionLiveState, ExecutionResult } from './execution-contract.js';

/**
 * The execution workflow's contract as schemas, for clients in any language: the input it is
 * started with, the result it returns, the live state of its `state` query and the argument of its
 * `stop` signal. contract/execution.schema.json is generated from these (`npm run contract:schema`);
 * the compile-time checks below fail when a schema and the workflow's own types part.
 *
 * Compatibility: fields are only ever added, and added fields are optional; none is renamed or
 * removed, and no value changes meaning. An input valid for an earlier release stays valid.
 */

/** A start leaving out `busyPolicy` or `trigger` gets their defaults (`queue`, `api`) at admission. */
export const executionInputSchema = startExecutionSchema.omit({ executionId: true }).extend({
  // What JSON Schema cannot check, said in words.
  prompt: startExecutionSchema.shape.prompt.meta({
    description: `not blank, at most ${limits.promptBytes} bytes of UTF-8, no NUL character`,
  }),
  metadata: startExecutionSchema.shape.metadata.meta({
    description: `at most ${limits.metadataBytes} bytes of JSON, objects and arrays nested at most ${limits.metadataDepth} deep, no NUL character`,
  }),
});

export const executionResultSchema = z.strictObject({
  executionId: z.string(),
  status: z.enum(terminalStatuses),
  errorKind: z.enum(errorKinds).optional(),
  error: z.string().optional(),
});

export const executionLiveStateSchema = z.strictObject({
  executionId: z.string(),
  agent: z.string(),
  phase: z.enum(['recording', 'acquiring_slot', 'awaiting_worker', 'running', 'finalizing', 'stopping', 'done']),
  status: z.enum(executionStatuses),
  stopReason: z.string().optional(),
  errorKind: z.enum(errorKinds).optional(),
});

export const stopSignalSchema = z.strictObject({ reason: z.string().min(1) });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T => true as T;
agree<Same<z.output<typeof executionInputSchema>, ExecutionInput>>();
agree<Same<z.output<typeof executionResultSchema>, ExecutionResult>>();
agree<Same<z.output<typeof executionLiveStateSchema>, ExecutionLiveState>>();
