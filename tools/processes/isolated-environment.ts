/** Variables through which a child process could reach some other stack than the one it is given. */
const connectionVariables = /^(LIFELINE_|TEMPORAL_|DATABASE_URL$|REDIS_URL$)/;

/**
 * This process's environment minus any Lifeline or Temporal settings, plus `env`: for a child that
 * must see only `env`'s stack (not even a temporal.toml profile of the machine's user).
 */
export function isolatedEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !connectionVariables.test(name));
  return { ...Object.fromEntries(inherited), TEMPORAL_CONFIG_FILE: '/nonexistent/lifeline-isolated/temporal.toml', ...env };
}
