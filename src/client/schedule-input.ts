import { z } from 'zod';
import { wholeSeconds } from '../domain/run-limits.js';
import { invalidInput } from './execution-input.js';
import { startExecutionSchema } from '../contract/start-execution-schema.js';

export const overlapPolicies = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all'] as const;
export type OverlapPolicy = (typeof overlapPolicies)[number];

export const scheduleLimits = {
  intervalSeconds: { min: 1, max: 366 * 24 * 3600 },
  noteLength: 1000,
} as const;

/**
 * Temporal appends `-<fire time>` (20 characters) to the action's workflow id `<agent>-<scheduleId>`;
 * with a 63-character agent name a 100-character schedule id keeps execution ids within 200.
 */
const scheduleIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ianaName = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** Temporal's server resolves the zone with the IANA database: accept only names, and only ones this runtime knows. */
function isIanaTimeZone(name: string): boolean {
  if (!ianaName.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const { agent, tenant, prompt, timeoutSeconds, busyPolicy, idleTimeoutSeconds, maxCostUsd } = startExecutionSchema.shape;

export const createScheduleSchema = z
  .strictObject({
    scheduleId: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .regex(scheduleIdPattern, 'must be 1-100 characters of letters, digits and . _ -, starting with a letter or digit'),
    agent,
    tenant,
    prompt,
    cron: z
      .string({ error: 'must be a cron expression' })
      .trim()
      .min(1, 'must not be empty')
      .refine((c) => !/^(CRON_)?TZ=/.test(c), 'set the time zone with timezone, not inside the expression')
      .optional(),
    intervalSeconds: wholeSeconds(scheduleLimits.intervalSeconds).optional(),
    timezone: z
      .string({ error: 'must be an IANA time zone name' })
      .refine(isIanaTimeZone, 'must be an IANA time zone name such as UTC or Europe/Paris')
      .optional(),
    timeoutSeconds,
    busyPolicy,
    idleTimeoutSeconds,
    maxCostUsd,
    overlap: z.enum(overlapPolicies, { error: `must be one of ${overlapPolicies.join(', ')}` }).default('skip'),
    paused: z.boolean({ error: 'must be true or false' }).default(false),
    note: z
      .string({ error: 'must be a string' })
      .max(scheduleLimits.noteLength, `must be at most ${scheduleLimits.noteLength} characters`)
      .optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.cron === undefined) === (s.intervalSeconds === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cron'],
        message: 'give exactly one of cron or intervalSeconds',
      });
    }
    // An interval fires every so many seconds whatever the zone: a zone given with one would be silently ignored.
    if (s.timezone !== undefined && s.cron === undefined) {
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'applies to a cron expression only; leave it out with intervalSeconds' });
    }
  })
  .transform((s) => ({ ...s, timezone: s.timezone ?? 'UTC' }));

export type CreateScheduleRequest = z.input<typeof createScheduleSchema>;
export type ScheduleDefinition = z.output<typeof createScheduleSchema>;

/** Validates a schedule; every invalid field is named in one error. */
export function parseScheduleRequest(raw: unknown): ScheduleDefinition {
  const parsed = createScheduleSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput(parsed.error);
  return parsed.data;
}
