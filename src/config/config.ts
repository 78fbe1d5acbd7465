import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  defaultTokenEnv,
  lifelineSecretFiles,
  parseTokenEnv,
  tokenDirProblem,
  type AgentTokenPolicy,
  type SecretFile,
} from './token-policy.js';
import { defaultSchedulePolicy, type SchedulePolicy } from '../domain/schedule-policy.js';
import { parseRedisUrl } from './redis-topology.js';
import { codecKeysRequirement, parseCodecKeys, type CodecKey } from './codec-keys.js';
import { isLoopback } from '../util/listen.js';
import {
  describeTemporalSettings,
  loadTemporalSettings,
  TemporalSettingsError,
  type TemporalConnectionSettings,
} from '../temporal-connection/connection-settings.js';

/**
 * The most bytes one agent response may have (LIFELINE_AGENT_MAX_RESPONSE_BYTES): room for a finished
 * run's whole output, JSON-escaped, in one answer (the reference agent keeps up to 16 MiB); an agent
 * that sends more is broken or hostile, and costs a worker no more than this.
 */
export const defaultMaxResponseBytes = 32 * 1024 * 1024;

/** How often some reconcile cycle sweeps every live row, not only the anomalies. */
export const defaultFullSweepSeconds = 600;

const hostPort = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** Compose files pass unset variables as empty strings; both mean "not configured", never 0. */
const unsetWhenEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const seconds = (def: number, min: number, max: number) =>
  z.preprocess(
    unsetWhenEmpty,
    z.coerce
      .number({ error: `must be a number of seconds` })
      .int(`must be a whole number of seconds`)
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(def),
  );

const integer = (def: number, min: number, max: number) =>
  z.preprocess(
    unsetWhenEmpty,
    z.coerce
      .number({ error: `must be a number` })
      .int(`must be a whole number`)
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(def),
  );

const optionalUrl = (protocols: RegExp) =>
  z
    .string()
    .regex(protocols, `must be a URL like ${protocols.source.replace(/[\^\\()|?]/g, '')}...`)
    .optional();

/** REDIS_URL's forms: src/config/redis-topology.ts. */
const redisUrlProblem = (url: string, ctx: z.RefinementCtx) => {
  const parsed = parseRedisUrl(url);
  if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
};

/** `part`: what in the setting names the file (`sslrootcert`), when not the whole setting. */
const readableFile = (part?: string) => (path: string, ctx: z.RefinementCtx) => {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    ctx.addIssue({ code: 'custom', message: `${part ? `${part}: ` : ''}cannot read ${path}` });
  }
};

/** A Postgres URL; libpq's sslrootcert in it (pg reads it too) is a file that must be there. */
const postgresUrl = () =>
  optionalUrl(/^postgres(ql)?:\/\//).superRefine((url, ctx) => {
    const query = url?.includes('?') ? new URLSearchParams(url.slice(url.indexOf('?') + 1)) : undefined;
    const rootCert = query?.get('sslrootcert');
    if (rootCert && rootCert !== 'system') readableFile('sslrootcert')(rootCert, ctx);
  });

const codecKeys = z.preprocess(
  unsetWhenEmpty,
  z
    .string()
    .optional()
    .transform((text, ctx): CodecKey[] | undefined => {
      if (text === undefined) return undefined;
      const parsed = parseCodecKeys(text);
      if ('keys' in parsed) return parsed.keys;
      ctx.addIssue({ code: 'custom', message: `must be ${codecKeysRequirement}: ${parsed.problems.join('; ')}` });
      return z.NEVER;
    }),
);

/** Agent token references a worker resolves (src/config/token-policy.ts); see docs/configuration.md, Agent tokens. */
const agentTokenEnv = z.preprocess(
  unsetWhenEmpty,
  z
    .string()
    .optional()
    .transform((text, ctx): string[] => {
      if (text === undefined) return defaultTokenEnv;
      const parsed = parseTokenEnv(text);
      if ('entries' in parsed) return parsed.entries;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
);
const agentTokenDir = z.preprocess(
  unsetWhenEmpty,
  z
    .string()
    .optional()
    .superRefine((dir, ctx) => {
      const problem = dir === undefined ? undefined : tokenDirProblem(dir);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
);

/** Every environment variable Lifeline reads, with its default and limits. */
export const configSchema = z.object({
  LIFELINE_TEMPORAL_ADDRESS: z.preprocess(
    unsetWhenEmpty,
    z.string().regex(hostPort, 'must be host:port, such as 127.0.0.1:7233').optional(),
  ),
  // Aliases of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE that win over them; the rest of Temporal's settings are read by envconfig.
  LIFELINE_TEMPORAL_NAMESPACE: z.preprocess(unsetWhenEmpty, z.string().optional()),
  // Quoted into visibility queries as it is, so no quotes or spaces.
  LIFELINE_TASK_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.:/-]{1,200}$/, 'letters, digits, _ . : / and -, at most 200')
    .default('lifeline'),
  LIFELINE_WORKER_VERSIONING: z.preprocess(unsetWhenEmpty, z.enum(['on', 'off']).default('off')),
  LIFELINE_DEPLOYMENT_NAME: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and -, at most 100')
      .default('lifeline'),
  ),
  LIFELINE_BUILD_ID: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'letters, digits, _ . and -, at most 100')
      .optional(),
  ),
  LIFELINE_TEMPORAL_CLI: z.string().optional(),
  LIFELINE_TEMPORAL_UI_URL: optionalUrl(/^https?:\/\//),
  LIFELINE_TRACE_URL: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^https?:\/\/.*\{traceId\}/, 'must be an http(s) URL with {traceId} where the trace id goes')
      .optional(),
  ),
  DATABASE_URL: postgresUrl(),
  LIFELINE_MIGRATIONS_DATABASE_URL: postgresUrl(),
  REDIS_URL: z.preprocess(unsetWhenEmpty, z.string().superRefine(redisUrlProblem).optional()),
  LIFELINE_REDIS_CA_FILE: z.preprocess(unsetWhenEmpty, z.string().superRefine(readableFile()).optional()),
  LIFELINE_DATA_DIR: z.string().default('.lifeline'),
  LIFELINE_AGENT_TOKEN_ENV: agentTokenEnv,
  LIFELINE_AGENT_TOKEN_DIR: agentTokenDir,
  LIFELINE_UI_PORT: integer(8233, 1, 65535),
  LIFELINE_AGENT_USER: z.string().min(1).max(100).optional(),
  LIFELINE_DEFAULT_TIMEOUT_SECONDS: seconds(900, 1, 7 * 24 * 3600),
  // At least 3 s: an agent request (a third of it, at least 1 s) must fit well inside it.
  LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: seconds(30, 3, 3600),
  LIFELINE_QUEUE_TIMEOUT_SECONDS: seconds(3600, 1, 7 * 24 * 3600),
  LIFELINE_AGENT_UNREACHABLE_SECONDS: seconds(60, 1, 3600),
  LIFELINE_POLL_INTERVAL_MS: integer(1000, 50, 60_000),
  LIFELINE_MAX_OUTPUT_BYTES: integer(1024 * 1024, 1024, 64 * 1024 * 1024),
  LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS: integer(defaultSchedulePolicy.minIntervalSeconds, 1, 24 * 3600),
  LIFELINE_SCHEDULES_PER_AGENT: integer(defaultSchedulePolicy.maxPerAgent, 1, 100_000),
  LIFELINE_AGENT_MAX_RESPONSE_BYTES: integer(defaultMaxResponseBytes, 64 * 1024, 1024 * 1024 * 1024),
  LIFELINE_STOP_WAIT_SECONDS: seconds(30, 1, 3600),
  LIFELINE_MAX_CONCURRENT_RUNS: integer(1000, 1, 100_000),
  LIFELINE_RECONCILE_INTERVAL_SECONDS: seconds(60, 0, 24 * 3600),
  LIFELINE_RECONCILE_GRACE_SECONDS: seconds(30, 0, 24 * 3600),
  LIFELINE_RECONCILE_FULL_SWEEP_SECONDS: seconds(defaultFullSweepSeconds, 60, 24 * 3600),
  LIFELINE_WORKER_WAIT_ALERT_SECONDS: seconds(60, 1, 24 * 3600),
  LIFELINE_STOP_ALERT_SECONDS: seconds(600, 1, 24 * 3600),
  LIFELINE_WORKER_GONE_SECONDS: seconds(75, 5, 3600),
  LIFELINE_ALERT_REPEAT_SECONDS: seconds(900, 0, 24 * 3600),
  LIFELINE_WEBHOOK_URL: optionalUrl(/^https?:\/\//),
  LIFELINE_METRICS_PORT: integer(9464, 0, 65535),
  LIFELINE_METRICS_TENANTS: integer(20, 0, 1000),
  LIFELINE_LISTEN_HOST: z.preprocess(unsetWhenEmpty, z.string().default('127.0.0.1')),
  LIFELINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LIFELINE_CODEC_KEYS: codecKeys,
  LIFELINE_CODEC_PORT: z.preprocess(unsetWhenEmpty, integer(0, 0, 65535)),
  LIFELINE_CODEC_AUTH_TOKEN: z.preprocess(unsetWhenEmpty, z.string().optional()),
  LIFELINE_CODEC_ALLOW_UNAUTHENTICATED: z.preprocess(
    unsetWhenEmpty,
    z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  ),
  LIFELINE_CODEC_ALLOWED_HOSTS: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .default('')
      .transform((list) =>
        list
          .split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean),
      ),
  ),
  LIFELINE_CODEC_CORS_ORIGINS: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .default('http://localhost:8233,http://127.0.0.1:8233')
      .transform((list) =>
        list
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      ),
  ),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface LifelineConfig {
  /** How to reach Temporal (address, namespace, TLS, API key: docs/configuration.md, Connecting to Temporal), and Lifeline's place on it. */
  temporal: TemporalConnectionSettings & {
    taskQueue: string;
    cliPath: string | undefined;
    /** The Temporal Web UI, for links to an execution's workflow. */
    uiUrl: string | undefined;
  };
  databaseUrl: string | undefined;
  /** Where migrations run: a direct connection when DATABASE_URL is a transaction-mode pooler. */
  migrationsDatabaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** The CA for `rediss` URLs; the system's CAs without it. */
  redisCaFile: string | undefined;
  dataDir: string;
  /** A trace viewer's link to one trace, `{traceId}` standing for its id (LIFELINE_TRACE_URL). */
  traceUrl: string | undefined;
  /** Which agent token references (env:, file:) workers resolve and `agents add` accepts. */
  agentTokens: AgentTokenPolicy;
  /** How often a schedule may fire and how many an agent may have (domain/schedule-policy.ts). */
  schedulePolicy: SchedulePolicy;
  /** The most bytes one agent response may have (agent-client.ts). */
  agentMaxResponseBytes: number;
  uiPort: number;
  /** The user `npm start`'s agent server runs agent processes as (agent-server/agent-user.ts). */
  agentUser: string | undefined;
  logLevel: RawConfig['LIFELINE_LOG_LEVEL'];
  execution: ExecutionSettings;
  reconciler: ReconcilerSettings;
  /** Alerts for failed and timed-out executions and reconciler recoveries; logged only when absent. */
  webhookUrl: string | undefined;
  /** The worker's Prometheus endpoint; 0 turns it off. */
  metricsPort: number;
  /** The busiest tenants named in metric labels; the others are `other` (0: every one is). */
  metricsTenants: number;
  /** Where the metrics and codec endpoints listen: loopback unless a deployment opens them. */
  listenHost: string;
  /**
   * Activities one worker runs at once: agent runs and queued slot waits, which mostly wait, and
   * the short stops and reconcile cycles. Past it, admitted runs wait for a worker.
   */
  maxConcurrentRuns: number;
  /**
   * Worker Versioning: every worker polls as a build of one Worker Deployment, and executions stay
   * pinned to the build they started on. The build id is derived from the workflow code unless set.
   */
  versioning: { deploymentName: string; buildId: string | undefined } | undefined;
  /** LIFELINE_DEPLOYMENT_NAME, also when this process does not poll as a build (the CLI's `deploy` commands). */
  deploymentName: string;
  /** Payload encryption; off without keys. The codec server runs only when a port is set too. */
  codec: {
    keys: CodecKey[] | undefined;
    port: number | undefined;
    authToken: string | undefined;
    corsOrigins: string[];
    /** Host names (no port) requests may name besides loopback's and the listen host. */
    allowedHosts: string[];
  };
}

/** The knobs of one execution's lifecycle; the workflow receives them through its first activity. */
export interface ExecutionSettings {
  defaultTimeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
  queueTimeoutSeconds: number;
  agentUnreachableSeconds: number;
  pollIntervalMs: number;
  maxOutputBytes: number;
  stopWaitSeconds: number;
}

/** The reconciler's knobs: its schedule, the age before a live row is checked, how often a cycle sweeps in full. */
export interface ReconcilerSettings {
  /** 0: no schedule (another deployment runs it). */
  intervalSeconds: number;
  /** Rows younger than this are left alone: their workflow may not have been created yet. */
  graceSeconds: number;
  /** A full sweep describes every live row's workflow; cycles between sweeps only the anomalies. */
  fullSweepSeconds: number;
  /** An admitted run that no worker started for this long raises the `runs_waiting_for_worker` alert. */
  workerWaitAlertSeconds: number;
  /**
   * An ended execution whose process is still not confirmed stopped (its slot held meanwhile) for
   * this long is a problem: `executions problems` lists it and the `stop_keeps_failing` alert goes out.
   * Unset: 600 s.
   */
  stopAlertSeconds?: number;
  /**
   * A build whose workers have not polled for this long has no workers: its pinned executions are
   * stuck. Above Temporal's long-poll expiry (matching.longPollExpirationInterval, 60 s by default),
   * since an idle worker polls again only when its long poll expires.
   */
  workerGoneSeconds: number;
  /** A lasting condition (a stuck execution, a build without workers) is alerted again after this long; 0: every cycle. */
  alertRepeatSeconds: number;
}

/** What executions and reconcile cycles run by, side by side. */
export interface LifelineSettings {
  execution: ExecutionSettings;
  reconciler: ReconcilerSettings;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Temporal's own settings (TEMPORAL_*, temporal.toml) under Lifeline's aliases, each problem naming its setting. */
function temporalSettings(env: NodeJS.ProcessEnv): TemporalConnectionSettings {
  let settings: TemporalConnectionSettings;
  try {
    settings = loadTemporalSettings(env);
  } catch (err) {
    // One line: a Temporal setting is read on its own, after the variables above were found valid.
    if (err instanceof TemporalSettingsError) throw new ConfigError(`invalid configuration: ${err.message}`);
    throw err;
  }
  if (settings.address !== undefined && !hostPort.test(settings.address))
    throw new ConfigError(`invalid configuration: ${settings.addressFrom}: must be host:port, such as 127.0.0.1:7233`);
  return settings;
}

/** The TLS files of Temporal's settings, a temporal.toml profile's among them: never an agent token either. */
function temporalTlsFiles(temporal: TemporalConnectionSettings): SecretFile[] {
  if (typeof temporal.tls !== 'object') return [];
  return [temporal.tls.clientKey, temporal.tls.clientCert].flatMap((m) =>
    m && 'path' in m ? [{ setting: m.setting, path: resolve(m.path) }] : [],
  );
}

/** Reads and validates the configuration; every problem is reported at once, each naming its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LifelineConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration:\n${problems}`);
  }
  const c = parsed.data;
  const temporal = temporalSettings(env);
  if (c.LIFELINE_REDIS_CA_FILE && c.REDIS_URL && !c.REDIS_URL.startsWith('rediss')) {
    throw new ConfigError(
      'invalid configuration:\n  LIFELINE_REDIS_CA_FILE: set, but REDIS_URL does not use TLS: make it rediss://, rediss+sentinel:// or rediss+cluster://',
    );
  }
  if (c.LIFELINE_CODEC_PORT && !c.LIFELINE_CODEC_KEYS) {
    throw new ConfigError('invalid configuration:\n  LIFELINE_CODEC_PORT: the codec server needs LIFELINE_CODEC_KEYS to decode with');
  }
  // The codec endpoint decrypts for whoever reaches it: beyond this machine only with a token, or on purpose.
  if (
    c.LIFELINE_CODEC_PORT &&
    !c.LIFELINE_CODEC_AUTH_TOKEN &&
    !isLoopback(c.LIFELINE_LISTEN_HOST) &&
    c.LIFELINE_CODEC_ALLOW_UNAUTHENTICATED !== 'true'
  ) {
    throw new ConfigError(
      `invalid configuration:\n  LIFELINE_CODEC_AUTH_TOKEN: the codec endpoint would serve decrypted payloads on ${c.LIFELINE_LISTEN_HOST} (LIFELINE_LISTEN_HOST) to anyone: set a token, or LIFELINE_CODEC_ALLOW_UNAUTHENTICATED=true when the network in front of it is private`,
    );
  }
  return {
    temporal: {
      ...temporal,
      taskQueue: c.LIFELINE_TASK_QUEUE,
      cliPath: c.LIFELINE_TEMPORAL_CLI,
      uiUrl: c.LIFELINE_TEMPORAL_UI_URL?.replace(/\/+$/, ''),
    },
    versioning:
      c.LIFELINE_WORKER_VERSIONING === 'on' ? { deploymentName: c.LIFELINE_DEPLOYMENT_NAME, buildId: c.LIFELINE_BUILD_ID } : undefined,
    deploymentName: c.LIFELINE_DEPLOYMENT_NAME,
    databaseUrl: c.DATABASE_URL,
    migrationsDatabaseUrl: c.LIFELINE_MIGRATIONS_DATABASE_URL ?? c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    redisCaFile: c.LIFELINE_REDIS_CA_FILE,
    dataDir: c.LIFELINE_DATA_DIR,
    traceUrl: c.LIFELINE_TRACE_URL,
    agentMaxResponseBytes: c.LIFELINE_AGENT_MAX_RESPONSE_BYTES,
    schedulePolicy: { minIntervalSeconds: c.LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS, maxPerAgent: c.LIFELINE_SCHEDULES_PER_AGENT },
    agentTokens: {
      env: c.LIFELINE_AGENT_TOKEN_ENV,
      dir: resolve(c.LIFELINE_AGENT_TOKEN_DIR ?? join(c.LIFELINE_DATA_DIR, 'agent-tokens')),
      secretFiles: [...lifelineSecretFiles(env, homedir()), ...temporalTlsFiles(temporal)],
    },
    uiPort: c.LIFELINE_UI_PORT,
    agentUser: c.LIFELINE_AGENT_USER,
    logLevel: c.LIFELINE_LOG_LEVEL,
    reconciler: {
      intervalSeconds: c.LIFELINE_RECONCILE_INTERVAL_SECONDS,
      graceSeconds: c.LIFELINE_RECONCILE_GRACE_SECONDS,
      fullSweepSeconds: c.LIFELINE_RECONCILE_FULL_SWEEP_SECONDS,
      workerWaitAlertSeconds: c.LIFELINE_WORKER_WAIT_ALERT_SECONDS,
      stopAlertSeconds: c.LIFELINE_STOP_ALERT_SECONDS,
      workerGoneSeconds: c.LIFELINE_WORKER_GONE_SECONDS,
      alertRepeatSeconds: c.LIFELINE_ALERT_REPEAT_SECONDS,
    },
    webhookUrl: c.LIFELINE_WEBHOOK_URL,
    metricsPort: c.LIFELINE_METRICS_PORT,
    metricsTenants: c.LIFELINE_METRICS_TENANTS,
    listenHost: c.LIFELINE_LISTEN_HOST,
    maxConcurrentRuns: c.LIFELINE_MAX_CONCURRENT_RUNS,
    codec: {
      keys: c.LIFELINE_CODEC_KEYS,
      port: c.LIFELINE_CODEC_PORT || undefined,
      authToken: c.LIFELINE_CODEC_AUTH_TOKEN,
      corsOrigins: c.LIFELINE_CODEC_CORS_ORIGINS,
      allowedHosts: c.LIFELINE_CODEC_ALLOWED_HOSTS,
    },
    execution: {
      defaultTimeoutSeconds: c.LIFELINE_DEFAULT_TIMEOUT_SECONDS,
      heartbeatTimeoutSeconds: c.LIFELINE_HEARTBEAT_TIMEOUT_SECONDS,
      queueTimeoutSeconds: c.LIFELINE_QUEUE_TIMEOUT_SECONDS,
      agentUnreachableSeconds: c.LIFELINE_AGENT_UNREACHABLE_SECONDS,
      pollIntervalMs: c.LIFELINE_POLL_INTERVAL_MS,
      maxOutputBytes: c.LIFELINE_MAX_OUTPUT_BYTES,
      stopWaitSeconds: c.LIFELINE_STOP_WAIT_SECONDS,
    },
  };
}

/** The configuration without secrets, for the summary printed at start. */
export function describeConfig(config: LifelineConfig): Record<string, unknown> {
  // Everything up to the authority's last `@` is credentials: ioredis reads `redis://secret@host` as a
  // password, and an unencoded `@` may sit inside one. Only a user name before a `:` is shown.
  const redact = (url: string | undefined) =>
    url?.replace(/^([a-z+]+:\/\/)([^/?#]*)@/, (_, scheme: string, auth: string) =>
      auth.includes(':') ? `${scheme}${auth.slice(0, auth.indexOf(':'))}:***@` : `${scheme}***@`,
    );
  const webhookUrl = config.webhookUrl ? `${new URL(config.webhookUrl).origin}/***` : undefined;
  const codec = {
    ...config.codec,
    keys: config.codec.keys?.map((k) => k.id),
    authToken: config.codec.authToken && '***',
  };
  const temporal = { ...describeTemporalSettings(config.temporal), taskQueue: config.temporal.taskQueue, uiUrl: config.temporal.uiUrl };
  return {
    ...config,
    temporal,
    databaseUrl: redact(config.databaseUrl),
    migrationsDatabaseUrl: redact(config.migrationsDatabaseUrl),
    redisUrl: redact(config.redisUrl),
    webhookUrl,
    codec,
  };
}
