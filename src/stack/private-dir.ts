import { chmodSync, mkdirSync } from 'node:fs';

/**
 * A directory of data only its owner may enter (0700), made so when it already exists: it is the
 * data's own directory, never a parent, so tightening it takes nothing from anyone else.
 */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}
