import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { reachOrExplain, redactedAddress, withoutCredentials } from '../../src/config/server-address.js';

describe('naming a server that cannot be reached', () => {
  it('shows where a URL points, never its password', () => {
    expect(redactedAddress('postgres://lifeline:s3cret@db.internal:5433/lifeline')).toBe('db.internal:5433/lifeline');
    expect(redactedAddress('redis://:s3cret@127.0.0.1:6379')).toBe('127.0.0.1:6379');
    expect(redactedAddress('not a url')).toBe('(an unparseable URL)');
  });

  it('turns a failed startup step into one line naming the server, its address and the variable', async () => {
    const failing = reachOrExplain('Postgres', redactedAddress('postgres://u:s3cret@127.0.0.1:1/x'), 'DATABASE_URL', () =>
      Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
    );
    await expect(failing).rejects.toBeInstanceOf(ConfigError);
    await expect(failing).rejects.toThrow('cannot reach Postgres at 127.0.0.1:1/x (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:1');
    await expect(failing).rejects.not.toThrow(/s3cret/);
  });

  it('refuses a malformed Temporal address at start', () => {
    expect(loadConfig({ LIFELINE_TEMPORAL_ADDRESS: '127.0.0.1:7233' }).temporal.address).toBe('127.0.0.1:7233');
    expect(loadConfig({ LIFELINE_TEMPORAL_ADDRESS: '[::1]:7233' }).temporal.address).toBe('[::1]:7233');
    expect(() => loadConfig({ LIFELINE_TEMPORAL_ADDRESS: 'http://temporal' })).toThrow(/LIFELINE_TEMPORAL_ADDRESS: must be host:port/);
  });
});

describe('a stored URL as listings show it', () => {
  it('takes out user:password@ and leaves the rest as it was', () => {
    expect(withoutCredentials('https://bot:s3cret@agents.internal:8443/agents/coder')).toBe('https://agents.internal:8443/agents/coder');
    expect(withoutCredentials('http://token@agent:8080')).toBe('http://agent:8080');
    expect(withoutCredentials('http://agent:8080/agents/a?x=1@2')).toBe('http://agent:8080/agents/a?x=1@2');
    expect(withoutCredentials('http://agent:8080/agents/a')).toBe('http://agent:8080/agents/a');
  });
});
