import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where downloaded tools live, outside the repository so a fresh clone's second run is fast: `~/.cache/lifeline/...`. */
export function lifelineCacheDir(...parts: string[]): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lifeline', ...parts);
}
