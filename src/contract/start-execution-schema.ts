import { z } from 'zod';
import { maxQueueTimeoutSeconds, maxTimeoutSeconds } from '../domain/execution-lifetime.js';
import { runLimitFields, wholeSeconds } from '../domain/run-limits.js';
import { isStorableJson, isStorableText, unstorableTextMessage } from '../domain/storable-text.js';

/**
 * What a start of an execution may carry, field by field, with the limits named in every message:
 * Lifeline's client validates with it, and the contract's schemas and JSON Schema derive from it. These
 * are the limits.
 */
export const limits = {
  promptBytes: 256 * 1024,
  metadataBytes: 16 * 1024,
  /** Objects and arrays within each other: every later check (and Postgres' JSON) recurses that deep. */
  metadataDepth: 32,
  timeoutSeconds: { min: 1, max: maxTimeoutSeconds },
  queueTimeoutSeconds: { min: 1, max: maxQueueTimeoutSeconds },
} as const;

export const agentNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** The team an execution runs for: named like an agent (migrations/0010_tenants.sql checks the same). */
export const tenantNamePattern = agentNamePattern;
const executionIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** "is required" when missing, "must be a string" when of another type: the message says which. */
const requiredString = () => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

/** JSON.stringify refuses cycles and BigInt with a TypeError: here that is bad input, named as such. */
function jsonBytes(value: unknown): number | undefined {
  try {
    return bytes(JSON.stringify(value));
  } catch {
    return undefined;
  }
}

/**
 * Whether objects and arrays nest at most `max` deep (a cycle nests forever). Iterative, so no input
 * can exhaust the stack, and an object shared by many parents is walked again only when reached
 * deeper, so sharing cannot make it exponential.
 */
function nestsWithin(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  const deepest = new Map<object, number>();
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object' || (deepest.get(item) ?? 0) >= depth) continue;
    if (depth > max) return false;
    deepest.set(item, depth);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return true;
}

// Strict: a misspelt field (`agnt`, `timeout`) is refused by name instead of silently falling back to a default.
export const startExecutionSchema = z.strictObject({
  executionId: z
    .string()
    .regex(executionIdPattern, 'must be 1-200 characters of letters, digits and . _ : @ -, starting with a letter or digit')
    .optional(),
  agent: requiredString().regex(agentNamePattern, 'must be a lowercase agent name (a-z, 0-9, _ and -)'),
  tenant: z
    .string({ error: 'must be a string' })
    .regex(tenantNamePattern, 'must be a lowercase tenant name of 1-63 characters (a-z, 0-9, _ and -), starting with a letter or digit')
    .optional(),
  prompt: requiredString()
    .refine((p) => p.trim().length > 0, 'must not be empty')
    .refine((p) => bytes(p) <= limits.promptBytes, `must be at most ${limits.promptBytes} bytes`)
    .refine(isStorableText, unstorableTextMessage),
  timeoutSeconds: wholeSeconds(limits.timeoutSeconds).optional(),
  busyPolicy: z.enum(['skip', 'queue'], { error: "must be 'skip' or 'queue'" }).default('queue'),
  queueTimeoutSeconds: wholeSeconds(limits.queueTimeoutSeconds).optional(),
  idleTimeoutSeconds: runLimitFields.idleTimeoutSeconds.optional(),
  maxCostUsd: runLimitFields.maxCostUsd.optional(),
  trigger: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .refine(isStorableText, unstorableTextMessage)
    .default('api'),
  scheduleId: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .refine(isStorableText, unstorableTextMessage)
    .optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => nestsWithin(m, limits.metadataDepth), {
      message: `must nest objects and arrays at most ${limits.metadataDepth} deep, without cycles`,
      abort: true,
    })
    .refine((m) => jsonBytes(m) !== undefined, { message: 'must be plain JSON (no cycles, no BigInt)', abort: true })
    .refine((m) => (jsonBytes(m) ?? 0) <= limits.metadataBytes, `must be at most ${limits.metadataBytes} bytes of JSON`)
    .refine(isStorableJson, `every key and string ${unstorableTextMessage}`)
    .optional(),
});

export type StartExecutionRequest = z.input<typeof startExecutionSchema>;
