import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';

/** The user an agent server runs its agent processes as, when that is not its own. */
export interface AgentUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The user that root runs agents as when none is configured: it owns no files and holds no secret. */
export const defaultAgentUser = 'nobody';

/**
 * Who runs agent processes. Agents are untrusted code: as the server's own user they could read its
 * configuration (every agent's token), its environment and any file of that user. So an agent
 * server running as root runs them as `runAgentsAs` (`nobody` by default); one that is not root
 * cannot switch users, and runs them as itself (its own name for `runAgentsAs` says so explicitly).
 */
export function resolveAgentUser(runAgentsAs: string | undefined): AgentUser | undefined {
  const root = process.getuid?.() === 0;
  const name = runAgentsAs ?? (root ? defaultAgentUser : undefined);
  if (name === undefined) return undefined;
  const user = lookUpUser(name);
  if (user.uid === process.getuid?.()) return undefined;
  if (!root) {
    throw new Error(`runAgentsAs: "${name}" is another user, and only an agent server running as root can run agents as another user`);
  }
  if (user.uid === 0) throw new Error(`runAgentsAs: "${name}" is root, which would give agents everything`);
  return user;
}

function lookUpUser(name: string): AgentUser {
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`runAgentsAs: there is no user "${name}" on this machine`);
  }
  const [, , uid, gid, , home] = entry.split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: home ?? '/' };
}

/**
 * Fails a start whose agent user cannot reach a file an agent needs (a program or script in a
 * directory only root may enter, such as /root), with the file and the user named, instead of
 * every run of that agent failing later.
 */
export function checkReachable(agent: string, files: { path: string; access: 'execute' | 'read' }[], user: AgentUser): void {
  for (const { path, access } of files) {
    // Found on PATH, or missing altogether: each run reports that as its failure.
    if (!isAbsolute(path) || !existsSync(path)) continue;
    if (spawnSync('test', [access === 'execute' ? '-x' : '-r', path], { uid: user.uid, gid: user.gid }).status === 0) continue;
    throw new Error(
      `agent "${agent}": user "${user.name}", who runs agent processes (runAgentsAs), cannot ${access} ${path}; ` +
        `put it where that user can, or set runAgentsAs to a user who can`,
    );
  }
}
