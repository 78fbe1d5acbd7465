import { describe, expect, it } from 'vitest';
import { loadAgentServerConfig } from '../../src/agent-server/agent-server-config.js';

describe('the reference agent server configuration', () => {
  it('names an agent whose name cannot be a URL path segment, with the rule', () => {
    expect(() => loadAgentServerConfig({ agents: { 'a/b': { token: 't', command: ['x'] } } })).toThrow(
      'invalid agent server config: agents.a/b: agent name "a/b" may use only letters, digits, _ . - (at most 100)',
    );
  });

  it('names every bad field at once', () => {
    expect(() => loadAgentServerConfig({ agents: { ok: { token: '', command: [] } } })).toThrow(
      /agents\.ok\.token: [^;]+; agents\.ok\.command: /,
    );
  });
});
