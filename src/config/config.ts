import { z } from 'zod';

const seconds = (name: string, def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number of seconds` })
    .int(`${name} must be a whole number of seconds`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(def);

const integer = (name: string, def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(def);

const optionalUrl = (name: string, protocols: RegExp) =>
  z
    .string()
    .regex(protocols, `${name} must be a URL like ${protocols.source.replace(/[\^\\()|?]/g, '')}...`)
    .optional();

/** Every environment variable Lifeline reads, with its default and limits. */
export const configSchema = z.object({
  LIFELINE_TEMPORAL_ADDRESS: z.string().optional(),
  LIFELINE_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  LIFELINE_TASK_QUEUE: z.string().min(1).default('lifeline'),
  LIFELINE_TEMPORAL_CLI: z.string().optional(),
  DATABASE_URL: optionalUrl('DATABASE_URL', /^postgres(ql)?:\/\//),
  REDIS_URL: optionalUrl('REDIS_URL', /^rediss?:\/\//),
  LIFELINE_DATA_DIR: z.string().default('.lifeline'),
  LIFELINE_UI_PORT: integer('LIFELINE_UI_PORT', 8233, 1, 65535),
  LIFELINE_DEFAULT_TIMEOUT_SECONDS: seconds('LIFELINE_DEFAULT_TIMEOUT_SECONDS', 900, 1, 7 * 24 * 3600),
  LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: seconds('LIFELINE_HEARTBEAT_TIMEOUT_SECONDS', 30, 1, 3600),
  LIFELINE_QUEUE_TIMEOUT_SECONDS: seconds('LIFELINE_QUEUE_TIMEOUT_SECONDS', 3600, 1, 7 * 24 * 3600),
  LIFELINE_AGENT_UNREACHABLE_SECONDS: seconds('LIFELINE_AGENT_UNREACHABLE_SECONDS', 60, 1, 3600),
  LIFELINE_POLL_INTERVAL_MS: integer('LIFELINE_POLL_INTERVAL_MS', 1000, 50, 60_000),
  LIFELINE_RUN_MAX_ATTEMPTS: integer('LIFELINE_RUN_MAX_ATTEMPTS', 5, 1, 1000),
  LIFELINE_MAX_OUTPUT_BYTES: integer('LIFELINE_MAX_OUTPUT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
  LIFELINE_STOP_WAIT_SECONDS: seconds('LIFELINE_STOP_WAIT_SECONDS', 30, 1, 3600),
  LIFELINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface LifelineConfig {
  temporal: { address: string | undefined; namespace: string; taskQueue: string; cliPath: string | undefined };
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  dataDir: string;
  uiPort: number;
  logLevel: RawConfig['LIFELINE_LOG_LEVEL'];
  execution: ExecutionSettings;
}

/** The knobs of one execution's lifecycle; the workflow receives them through its first activity. */
export interface ExecutionSettings {
  defaultTimeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
  queueTimeoutSeconds: number;
  agentUnreachableSeconds: number;
  pollIntervalMs: number;
  runMaxAttempts: number;
  maxOutputBytes: number;
  stopWaitSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration; every problem is reported at once, each naming its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LifelineConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration:\n${problems}`);
  }
  const c = parsed.data;
  return {
    temporal: {
      address: c.LIFELINE_TEMPORAL_ADDRESS,
      namespace: c.LIFELINE_TEMPORAL_NAMESPACE,
      taskQueue: c.LIFELINE_TASK_QUEUE,
      cliPath: c.LIFELINE_TEMPORAL_CLI,
    },
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    dataDir: c.LIFELINE_DATA_DIR,
    uiPort: c.LIFELINE_UI_PORT,
    logLevel: c.LIFELINE_LOG_LEVEL,
    execution: {
      defaultTimeoutSeconds: c.LIFELINE_DEFAULT_TIMEOUT_SECONDS,
      heartbeatTimeoutSeconds: c.LIFELINE_HEARTBEAT_TIMEOUT_SECONDS,
      queueTimeoutSeconds: c.LIFELINE_QUEUE_TIMEOUT_SECONDS,
      agentUnreachableSeconds: c.LIFELINE_AGENT_UNREACHABLE_SECONDS,
      pollIntervalMs: c.LIFELINE_POLL_INTERVAL_MS,
      runMaxAttempts: c.LIFELINE_RUN_MAX_ATTEMPTS,
      maxOutputBytes: c.LIFELINE_MAX_OUTPUT_BYTES,
      stopWaitSeconds: c.LIFELINE_STOP_WAIT_SECONDS,
    },
  };
}

/** The configuration without secrets, for the summary printed at start. */
export function describeConfig(config: LifelineConfig): Record<string, unknown> {
  const redact = (url: string | undefined) => url?.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
  return { ...config, databaseUrl: redact(config.databaseUrl), redisUrl: redact(config.redisUrl) };
}
