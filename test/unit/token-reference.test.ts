import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeToken, parseTokenReference, tokenReferenceSchema, type TokenReference } from '../../src/domain/token-reference.js';

/** The messages a CLI prints for the `token` field, as `agents add` words them. */
function problems(token: TokenReference): string[] {
  const parsed = tokenReferenceSchema.safeParse(token);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.message);
}

describe('an agent token reference', () => {
  it('reads env:NAME and file:PATH, and nothing else: a token pasted where a reference belongs is refused', () => {
    expect(parseTokenReference('env:CODER_TOKEN')).toEqual({ source: 'env', ref: 'CODER_TOKEN' });
    expect(parseTokenReference('file:/run/secrets/coder')).toEqual({ source: 'file', ref: '/run/secrets/coder' });
    for (const text of ['vault:coder', 'ENV:CODER_TOKEN', 'literal:abc', 's3cr3t-t0ken', ''])
      expect(parseTokenReference(text), text).toBeUndefined();
  });

  it('accepts a variable name, an absolute path or a printable literal', () => {
    for (const token of [
      { source: 'env', ref: '_CODER_TOKEN2' },
      { source: 'file', ref: '/run/secrets/coder token' },
      { source: 'literal', ref: 'abc.DEF-123_~+/=' },
    ] as const) {
      expect(problems(token), token.ref).toEqual([]);
    }
  });

  it('refuses an empty variable name, a relative path, an empty literal, saying which and how', () => {
    expect(problems({ source: 'env', ref: '' })).toEqual(['env: needs a variable name, such as env:AGENT_TOKEN_CODER']);
    expect(problems({ source: 'env', ref: '2FA-TOKEN' })).toEqual([
      'env: must name a variable (letters, digits and _, not starting with a digit)',
    ]);
    expect(problems({ source: 'file', ref: 'secrets/coder' })).toEqual([
      'file: needs an absolute path, such as file:/run/secrets/coder-token',
    ]);
    expect(problems({ source: 'file', ref: '' })).toEqual(['file: needs an absolute path, such as file:/run/secrets/coder-token']);
    expect(problems({ source: 'literal', ref: '' })).toEqual(['a literal token must not be empty or contain spaces or control characters']);
  });

  it('never quotes what it refuses: it may be a token given in the wrong place', () => {
    for (const token of [
      { source: 'literal', ref: 'half of a secret\n' },
      { source: 'env', ref: 'secret-pasted-as-a-name' },
    ] as const) {
      expect(problems(token)[0]).not.toContain('secret');
    }
  });

  it('names the field in the message a caller prints', () => {
    const withField = z.object({ token: tokenReferenceSchema }).safeParse({ token: { source: 'file', ref: 'relative' } });
    expect(withField.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'token: file: needs an absolute path, such as file:/run/secrets/coder-token',
    ]);
  });

  it('is shown as its reference, a literal only as where it is kept', () => {
    expect(describeToken({ source: 'env', ref: 'CODER_TOKEN' })).toBe('env:CODER_TOKEN');
    expect(describeToken({ source: 'file', ref: '/run/secrets/coder' })).toBe('file:/run/secrets/coder');
    expect(describeToken({ source: 'literal' })).toBe('literal (stored in Postgres)');
    expect(describeToken({ source: 'literal', ref: 'the-secret' })).toBe('literal (stored in Postgres)');
  });
});
