/**
 * The forms REDIS_URL takes (docs/configuration.md): one node, a Sentinel-managed master, or a
 * Cluster, each with TLS when the scheme starts with `rediss`:
 *
 *   redis://[user:pass@]host:6379[/db]                              one node
 *   redis+sentinel://[user:pass@]s1:26379,s2:26379,s3:26379/<master>[?db=N]
 *   redis+cluster://[user:pass@]n1:7000,n2:7001,n3:7002
 *
 * Everything about where Redis is sits in the one variable, so a deployment switches topology by
 * changing one value, and the credentials stay where describeConfig already redacts them.
 */
export interface HostPort {
  host: string;
  port: number;
}

export type RedisTopology =
  | { kind: 'single'; url: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      masterName: string;
      db: number;
      username: string | undefined;
      password: string | undefined;
      tls: boolean;
    }
  | { kind: 'cluster'; nodes: HostPort[]; username: string | undefined; password: string | undefined; tls: boolean };

const multiHost = /^(redis|rediss)\+(sentinel|cluster):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/;
const hostPortPattern = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export const redisUrlForms =
  'redis[s]://host:port[/db], redis[s]+sentinel://host:port,host:port,.../<master name>[?db=N] or redis[s]+cluster://host:port,host:port,...';

function hosts(list: string): HostPort[] | string {
  const out: HostPort[] = [];
  for (const item of list.split(',')) {
    const m = hostPortPattern.exec(item.trim());
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) return `"${item}" is not host:port`;
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return out;
}

function credentials(userinfo: string | undefined): { username: string | undefined; password: string | undefined } {
  if (userinfo === undefined) return { username: undefined, password: undefined };
  const colon = userinfo.indexOf(':');
  const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const pass = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  return { username: user || undefined, password: pass || undefined };
}

/** The topology REDIS_URL names, or what is wrong with it (without repeating the URL: it may hold a password). */
export function parseRedisUrl(url: string): RedisTopology | { problem: string } {
  if (/^rediss?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      return { problem: `not a valid URL; the forms are ${redisUrlForms}` };
    }
    return { kind: 'single', url, tls: url.startsWith('rediss:') };
  }
  const m = multiHost.exec(url);
  if (!m) return { problem: `must be one of ${redisUrlForms}` };
  const [, scheme, kind, userinfo, hostList, path = '', query = ''] = m;
  const tls = scheme === 'rediss';
  const nodes = hosts(hostList!);
  if (typeof nodes === 'string')
    return { problem: `${nodes}: list the ${kind === 'sentinel' ? 'sentinels' : 'cluster nodes'} as host:port,host:port` };
  const { username, password } = credentials(userinfo);
  const params = new URLSearchParams(query);
  if (kind === 'cluster') {
    if (path !== '' && path !== '/') return { problem: 'a cluster URL has no path: a cluster has only database 0' };
    if ([...params.keys()].length > 0) return { problem: 'a cluster URL takes no query parameters' };
    return { kind: 'cluster', nodes, username, password, tls };
  }
  const masterName = decodeURIComponent(path.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(masterName)) {
    return { problem: 'a sentinel URL ends with /<master name> (letters, digits, _ . -), as the sentinels know it' };
  }
  const unknown = [...params.keys()].filter((k) => k !== 'db');
  if (unknown.length > 0) return { problem: `unknown query parameter ${unknown.join(', ')}: only db=N` };
  const db = params.get('db') ?? '0';
  if (!/^\d{1,2}$/.test(db)) return { problem: 'db must be a database number' };
  return { kind: 'sentinel', sentinels: nodes, masterName, db: Number(db), username, password, tls };
}
