import type { AgentUser } from './agent-user.js';
import { usageFd } from './usage-lines.js';

/**
 * What an agent process inherits from the agent server: only what a command needs to run (where
 * programs are, the user, the locale, the time zone, a temp dir). Never Lifeline's settings or
 * secrets (database URLs, codec keys, tokens): an agent's own variables come from its `env` config.
 */
const inherited = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|TERM)$/;

/** The variables of `env` that say only where programs are, who the user is, the locale and the time zone. */
export function ordinaryEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => inherited.test(entry[0]) && entry[1] !== undefined),
  );
}

export function agentProcessEnvironment(
  server: NodeJS.ProcessEnv,
  own: Record<string, string> | undefined,
  executionId: string,
  user?: AgentUser,
) {
  // Another user's processes get that user's home and name, not the server's.
  const identity = user ? { HOME: user.home, USER: user.name, LOGNAME: user.name } : {};
  return { ...ordinaryEnvironment(server), ...identity, ...own, LIFELINE_EXECUTION_ID: executionId, LIFELINE_USAGE_FD: String(usageFd) };
}
