import { execFileSync } from 'node:child_process';

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * When running as root, servers that refuse root (PostgreSQL) run as the `postgres` system user
 * that Debian's package creates. Otherwise they run as whoever we are.
 */
export function serviceUser(): ServiceUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { name: 'postgres', uid, gid };
}

/** Wraps a command so it runs as the service user; setpriv execs, so signals reach the server itself. */
export function asServiceUser(command: string, args: string[]): [string, string[]] {
  const user = serviceUser();
  if (!user) return [command, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', command, ...args]];
}
