import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../util/logger.js';
import { privateDir } from './private-dir.js';
import { serviceUser } from './service-user.js';

/**
 * Where a private Postgres keeps its cluster. Run as ourselves: `<dir>/pgdata`. Run as root,
 * Postgres runs as the postgres user, who cannot enter root's 0700 directories, and granting it
 * search permission on every parent would open them to every local user. So the cluster goes
 * under that user's own home instead, in a 0700 directory named for `dir`, which records `dir`
 * so that clusters whose `dir` is gone (a removed test directory) are swept away.
 */
export function postgresDataDir(dir: string, log: Logger): string {
  const user = serviceUser();
  if (!user) return join(dir, 'pgdata');
  const clusters = privateDir(join(user.home, 'lifeline'));
  chownSync(clusters, user.uid, user.gid);
  sweepOrphans(clusters, log);
  const origin = resolve(dir);
  const own = privateDir(join(clusters, createHash('sha256').update(origin).digest('hex').slice(0, 16)));
  writeFileSync(join(own, 'origin'), origin);
  const data = join(own, 'pgdata');
  moveOldCluster(join(dir, 'pgdata'), data);
  privateDir(data);
  for (const d of [own, data]) chownSync(d, user.uid, user.gid);
  return data;
}

/** A cluster that earlier versions kept in `dir` itself (reached by opening every parent) keeps its data. */
function moveOldCluster(from: string, to: string): void {
  if (!existsSync(join(from, 'PG_VERSION')) || existsSync(join(to, 'PG_VERSION'))) return;
  rmSync(to, { recursive: true, force: true });
  try {
    renameSync(from, to);
  } catch {
    // Another file system: `cp -a` keeps the postgres user's ownership, which a copy by root would not.
    execFileSync('cp', ['-a', from, to]);
    rmSync(from, { recursive: true, force: true });
  }
}

/** Removes what `postgresDataDir` made for a cluster that is thrown away. */
export function removePostgresData(dataDir: string): void {
  rmSync(serviceUser() ? resolve(dataDir, '..') : dataDir, { recursive: true, force: true });
}

function sweepOrphans(clusters: string, log: Logger): void {
  for (const entry of readdirSync(clusters)) {
    let origin: string;
    try {
      origin = readFileSync(join(clusters, entry, 'origin'), 'utf8');
    } catch {
      continue; // still being made
    }
    if (existsSync(origin)) continue;
    rmSync(join(clusters, entry), { recursive: true, force: true });
    log.debug({ origin }, 'removed the Postgres cluster of a directory that is gone');
  }
}
