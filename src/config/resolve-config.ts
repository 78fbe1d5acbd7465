import { loadConfig, type LifelineConfig } from './config.js';
import { readStackFile, stackFilePath } from '../stack/stack-file.js';

export interface ResolvedConfig {
  config: LifelineConfig;
  /** The stack file the missing addresses came from, if any. */
  stackFile: string | undefined;
}

/**
 * The configuration from the environment; any of the Temporal address, DATABASE_URL and REDIS_URL
 * it leaves unset comes from the stack file `npm start` writes, so the CLI and `connectLifeline` work against the local
 * stack without exported variables. The namespace, task queue and UI come from the file only
 * together with its Temporal address: they describe that server.
 */
export function resolveConfig(env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const fromEnv = loadConfig(env);
  if (fromEnv.temporal.address && fromEnv.databaseUrl && fromEnv.redisUrl) return { config: fromEnv, stackFile: undefined };
  const stack = readStackFile(fromEnv.dataDir);
  if (!stack) return { config: fromEnv, stackFile: undefined };
  const fill: Record<string, string | undefined> = {
    LIFELINE_TEMPORAL_ADDRESS: stack.temporalAddress,
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL: stack.redisUrl,
    ...(env.LIFELINE_TEMPORAL_ADDRESS
      ? {}
      : {
          LIFELINE_TEMPORAL_NAMESPACE: stack.namespace,
          LIFELINE_TASK_QUEUE: stack.taskQueue,
          LIFELINE_TEMPORAL_UI_URL: stack.temporalUiUrl,
        }),
  };
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(fill)) if (!merged[name] && value) merged[name] = value;
  return { config: loadConfig(merged), stackFile: stackFilePath(fromEnv.dataDir) };
}
