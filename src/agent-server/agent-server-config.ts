import { readFileSync } from 'node:fs';
import { z } from 'zod';

const mebibyte = 1024 * 1024;

export const agentCommandConfig = z.object({
  token: z.string().min(1),
  /** argv of the command; the prompt is appended as its last argument after `--` (no shell, so no quoting issues). */
  command: z.array(z.string().min(1)).min(1),
  /**
   * How the command gets the prompt: its last argument, after `--` so that it is never read as an
   * option (Linux caps one argument at 128 KiB), or its standard input, for prompts up to
   * Lifeline's 256 KiB and commands that read it.
   */
  promptVia: z.enum(['argument', 'stdin']).default('argument'),
  /** Output kept per execution; bytes past it are counted but dropped. */
  maxOutputBytes: z
    .number()
    .int()
    .positive()
    .default(16 * mebibyte),
  /** Time between SIGTERM and SIGKILL to the execution's process group on stop. */
  stopGraceMs: z.number().int().nonnegative().default(10_000),
  /** Runs at once; a start beyond it is answered 429 (Lifeline retries it as an agent that is busy for now). */
  maxConcurrentRuns: z.number().int().positive().default(64),
  /** Finished runs kept for Lifeline to read (their output above all); the oldest go first. */
  keepFinishedRuns: z.number().int().nonnegative().default(1000),
  /** A finished run is forgotten this long after it ended. */
  finishedRunTtlSeconds: z.number().int().positive().default(3600),
  /** The output kept by all of this agent's runs together; past it, the oldest finished runs go. */
  maxKeptOutputBytes: z
    .number()
    .int()
    .positive()
    .default(256 * mebibyte),
  env: z.record(z.string(), z.string()).optional(),
});
export type AgentCommandConfig = z.infer<typeof agentCommandConfig>;
export type AgentCommandConfigInput = z.input<typeof agentCommandConfig>;

export const agentServerConfig = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks any free port; the server reports the one it got. */
  port: z.number().int().min(0).max(65_535).default(0),
  /**
   * The user agent processes run as (agent-user.ts): by default `nobody` when the server runs as
   * root, else the server's own user, the only one it can use.
   */
  runAgentsAs: z.string().min(1).max(100).optional(),
  // Agent names become URL path segments, so they are kept to characters that need no escaping.
  // Checked here rather than on the record's key, whose own message would only say "Invalid key in record".
  agents: z.record(z.string(), agentCommandConfig).superRefine((agents, ctx) => {
    for (const name of Object.keys(agents)) {
      if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name))
        ctx.addIssue({ code: 'custom', path: [name], message: `agent name "${name}" may use only letters, digits, _ . - (at most 100)` });
    }
  }),
});
export type AgentServerConfig = z.infer<typeof agentServerConfig>;
export type AgentServerConfigInput = z.input<typeof agentServerConfig>;

/** Reads the config from a JSON file path, or validates an object already in hand. */
export function loadAgentServerConfig(source: string | AgentServerConfigInput): AgentServerConfig {
  const origin = typeof source === 'string' ? source : 'agent server config';
  let raw: unknown = source;
  if (typeof source === 'string') {
    try {
      raw = JSON.parse(readFileSync(source, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read agent server config ${source}: ${(err as Error).message}`, { cause: err });
    }
  }
  const parsed = agentServerConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid ${origin}: ${issues}`);
  }
  return parsed.data;
}
