import { ConfigError } from './config.js';

/** Where a server URL points, without its credentials: `host:port/database` of `postgres://user:pw@host:port/database`. */
/** A URL with any `user:password@` taken out, the rest as it was: for listings of stored URLs. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
}

export function redactedAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '(default port)'}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    // Several hosts (redis+sentinel://, redis+cluster://) are no URL host: the text without credentials or query.
    const hosts = /^[a-z+]+:\/\/(?:[^/?#]*@)?([^?#]*)/.exec(url)?.[1];
    return hosts || '(an unparseable URL)';
  }
}

/**
 * A startup step against a server: a failure becomes one line that names the server, its
 * address (never a password) and the variable to check, instead of a stack trace.
 */
export async function reachOrExplain<T>(server: string, address: string, variable: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const reason = err instanceof Error ? err.message || err.name : String(err);
    throw new ConfigError(`cannot reach ${server} at ${address} (${variable}): ${reason}`);
  }
}
