import { usageFd } from './usage-lines.js';

/**
 * What an agent process inherits from the agent server: only what a command needs to run (where
 * programs are, the user, the locale, the time zone, a temp dir). Never Lifeline's settings or
 * secrets (database URLs, codec keys, tokens): an agent's own variables come from its `env` config.
 */
const inherited = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|TERM)$/;

export function agentProcessEnvironment(server: NodeJS.ProcessEnv, own: Record<string, string> | undefined, executionId: string) {
  const kept = Object.entries(server).filter(([name, value]) => inherited.test(name) && value !== undefined);
  return { ...Object.fromEntries(kept), ...own, LIFELINE_EXECUTION_ID: executionId, LIFELINE_USAGE_FD: String(usageFd) };
}
