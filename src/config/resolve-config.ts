import { loadConfig, type LifelineConfig } from './config.js';
import { readStackFile, stackFilePath } from './stack-file.js';

export interface ResolvedConfig {
  config: LifelineConfig;
  /** The stack file the missing addresses came from, if any. */
  stackFile: string | undefined;
  /** The variables the stack file set (those the environment left unset). */
  fromStack: string[];
}

/**
 * The configuration from the environment (and Temporal's config file); any of the Temporal address,
 * DATABASE_URL and REDIS_URL it leaves unset comes from the stack file `npm start` writes, so the CLI
 * and `connectLifeline` work against the local stack without exported variables. An explicit
 * setting always wins over the file. The namespace, task queue and UI come from the file only
 * together with its Temporal address: they describe that server. The file names a Temporal server
 * only when `npm start` ran its own; against an external one, the same TEMPORAL_* settings are needed here.
 */
export function resolveConfig(env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const fromEnv = loadConfig(env);
  if (fromEnv.temporal.address && fromEnv.databaseUrl && fromEnv.redisUrl) return { config: fromEnv, stackFile: undefined, fromStack: [] };
  const stack = readStackFile(fromEnv.dataDir);
  if (!stack) return { config: fromEnv, stackFile: undefined, fromStack: [] };
  const fill: Record<string, string | undefined> = {
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL: stack.redisUrl,
    LIFELINE_TRACE_URL: stack.traceUrl,
    ...(fromEnv.temporal.address || !stack.temporal
      ? {}
      : {
          LIFELINE_TEMPORAL_ADDRESS: stack.temporal.address,
          LIFELINE_TEMPORAL_NAMESPACE: fromEnv.temporal.namespaceFrom === 'default' ? stack.temporal.namespace : undefined,
          LIFELINE_TASK_QUEUE: stack.temporal.taskQueue,
          LIFELINE_TEMPORAL_UI_URL: stack.temporal.uiUrl,
        }),
  };
  const merged: NodeJS.ProcessEnv = { ...env };
  const fromStack: string[] = [];
  for (const [name, value] of Object.entries(fill)) {
    if (merged[name]?.trim() || !value) continue;
    merged[name] = value;
    fromStack.push(name);
  }
  return { config: loadConfig(merged), stackFile: stackFilePath(fromEnv.dataDir), fromStack };
}
