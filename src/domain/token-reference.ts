import { z } from 'zod';

/**
 * Where an agent's bearer token is held: the worker's environment (`env`), a file on the worker
 * (`file`), or Postgres itself (`literal`, only when asked for explicitly). Only a literal row holds
 * the secret; the others hold a name or a path, so rotating the token needs no re-registration.
 */
export const tokenSources = ['env', 'file', 'literal'] as const;
export type TokenSource = (typeof tokenSources)[number];

/** How a row holds its token: the variable name, the path, or (literal) the token itself. */
export interface TokenReference {
  source: TokenSource;
  ref: string;
}

/** What may be shown of a reference: everything but a literal's value. */
export interface HeldToken {
  source: TokenSource;
  ref?: string;
}

const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What an HTTP header value and RFC 6750 allow a bearer token, and no space or control character. */
export const tokenCharacters = /^[\x21-\x7e]+$/;

/** Why `token` cannot be used, or undefined. Never quotes what was given: the message may be printed or logged. */
function tokenReferenceProblem({ source, ref }: TokenReference): string | undefined {
  switch (source) {
    case 'env':
      if (ref === '') return 'env: needs a variable name, such as env:AGENT_TOKEN_CODER';
      // Not quoted: a token pasted by mistake where its variable's name belongs is a secret all the same.
      return variableName.test(ref) ? undefined : 'env: must name a variable (letters, digits and _, not starting with a digit)';
    case 'file':
      if (ref.includes('\0')) return 'file: a path cannot contain a NUL character';
      return ref.startsWith('/') ? undefined : 'file: needs an absolute path, such as file:/run/secrets/coder-token';
    case 'literal':
      return tokenCharacters.test(ref) ? undefined : 'a literal token must not be empty or contain spaces or control characters';
  }
}

export const tokenReferenceSchema = z.object({ source: z.enum(tokenSources), ref: z.string() }).superRefine((token, ctx) => {
  const problem = tokenReferenceProblem(token);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * `env:NAME` or `file:PATH`, as `agents list` shows them; undefined for any other text. A literal
 * has no text form, so a token pasted where a reference belongs is refused instead of stored.
 */
export function parseTokenReference(text: string): TokenReference | undefined {
  const match = /^(env|file):(.*)$/s.exec(text);
  return match ? { source: match[1] as TokenSource, ref: match[2]! } : undefined;
}

/** `env:NAME`, `file:PATH` or, for a literal, where it is kept (never its value). */
export function describeToken(token: HeldToken): string {
  return token.source === 'literal' ? 'literal (stored in Postgres)' : `${token.source}:${token.ref ?? ''}`;
}

/** `agent "NAME": token REFERENCE PROBLEM`, as registration and the worker word a refused or unresolvable token. */
export function describeTokenProblem(agent: string, token: HeldToken, problem: string): string {
  return `agent "${agent}": token ${describeToken(token)} ${problem}`;
}

/** A token held in Postgres: for agents whose token exists only where they are registered (tests, demos, benchmarks). */
export function literalToken(value: string): TokenReference {
  return { source: 'literal', ref: value };
}
