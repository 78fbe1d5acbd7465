import { execFileSync } from 'node:child_process';

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * When running as root, servers that refuse root (PostgreSQL) run as the `postgres` system user
 * that Debian's package creates. Otherwise they run as whoever we are.
 */
export function serviceUser(): ServiceUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const [name, , uid, gid, , home] = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim().split(':');
  return { name: name!, uid: Number(uid), gid: Number(gid), home: home! };
}

/** Wraps a command so it runs as the service user; setpriv execs, so signals reach the server itself. */
export function asServiceUser(command: string, args: string[]): [string, string[]] {
  const user = serviceUser();
  if (!user) return [command, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', command, ...args]];
}
