import type { Cluster, Redis } from 'ioredis';

/**
 * The client with these scripts as commands, each defined once per client. defineCommand sends
 * EVALSHA and falls back to EVAL once after a restart flushed the script cache.
 */
export function withLuaCommands<Commands>(
  redis: Redis | Cluster,
  commands: Record<keyof Commands & string, { numberOfKeys: number; lua: string }>,
): (Redis | Cluster) & Commands {
  const defined = redis as unknown as Record<string, unknown>;
  for (const [name, command] of Object.entries<{ numberOfKeys: number; lua: string }>(commands))
    if (typeof defined[name] !== 'function') redis.defineCommand(name, command);
  return redis as (Redis | Cluster) & Commands;
}
