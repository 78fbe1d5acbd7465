import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../../src/config/config.js';
import { parseRedisUrl } from '../../src/config/redis-topology.js';
import { redactedAddress } from '../../src/config/server-address.js';

describe('REDIS_URL: one node, Sentinel or Cluster, with or without TLS', () => {
  it('reads one node as ioredis does, TLS with rediss', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379', tls: false });
    expect(parseRedisUrl('rediss://:pw@cache:6380/2')).toMatchObject({ kind: 'single', tls: true });
  });

  it('reads sentinels, the master name, the database and the credentials', () => {
    expect(parseRedisUrl('redis+sentinel://app:s%40cret@s1:26379,10.0.0.2:26380,[::1]:26381/mymaster?db=3')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      masterName: 'mymaster',
      db: 3,
      username: 'app',
      password: 's@cret',
      tls: false,
    });
    expect(parseRedisUrl('rediss+sentinel://s1:26379/m')).toMatchObject({ kind: 'sentinel', db: 0, tls: true, password: undefined });
  });

  it('reads cluster nodes', () => {
    expect(parseRedisUrl('rediss+cluster://:pw@n1:7000,n2:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      username: undefined,
      password: 'pw',
      tls: true,
    });
  });

  it.each([
    ['redis+sentinel://s1:26379,s2:26379', /master name/],
    ['redis+sentinel://s1:26379,s2/m', /"s2" is not host:port/],
    ['redis+sentinel://s1:26379/m?sentinelPassword=x', /unknown query parameter sentinelPassword/],
    ['redis+cluster://n1:7000/1', /no path/],
    ['redis+cluster://n1:99999', /not host:port/],
    ['memcached://x:1', /must be one of/],
  ])('refuses %s, saying why', (url, problem) => {
    const parsed = parseRedisUrl(url);
    expect('problem' in parsed && parsed.problem).toMatch(problem);
  });

  it('names REDIS_URL and LIFELINE_REDIS_CA_FILE in configuration errors', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://n1' })).toThrow(/REDIS_URL: "n1" is not host:port/);
    expect(() => loadConfig({ REDIS_URL: 'rediss://h:1', LIFELINE_REDIS_CA_FILE: '/nonexistent/ca.pem' })).toThrow(
      /LIFELINE_REDIS_CA_FILE: cannot read \/nonexistent\/ca.pem/,
    );
    expect(() => loadConfig({ REDIS_URL: 'redis://h:1', LIFELINE_REDIS_CA_FILE: '/etc/hostname' })).toThrow(
      /LIFELINE_REDIS_CA_FILE: set, but REDIS_URL does not use TLS/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem' })).toThrow(
      /DATABASE_URL: sslrootcert: cannot read \/nonexistent\/ca.pem/,
    );
  });

  it('never shows a password, whatever the form', () => {
    for (const url of [
      'redis+sentinel://u:topsecret@s1:1,s2:2/m',
      'rediss+cluster://:topsecret@n1:1,n2:2',
      'rediss://:topsecret@h:1',
      'redis://topsecret@h:1',
      'redis://:top@secret@h:1',
      'redis://default:topsecret@h:1/2',
    ]) {
      const described = JSON.stringify(describeConfig(loadConfig({ REDIS_URL: url })));
      expect(described).not.toContain('topsecret');
      expect(redactedAddress(url)).not.toContain('topsecret');
    }
    expect(redactedAddress('redis+sentinel://u:topsecret@s1:1,s2:2/m?db=1')).toBe('s1:1,s2:2/m');
    expect(redactedAddress('redis+sentinel://u:top@secret@s1:1,s2:2/m')).toBe('s1:1,s2:2/m');
  });
});
