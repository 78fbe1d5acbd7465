import { createSign, generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';

export interface ApiKeyOptions {
  /** Claims such as `default:admin`, `lifeline:write` or `temporal-system:admin` (cluster admin); roles are read, write, worker, admin. */
  permissions: string[];
  /** Negative for a key that has already expired. One hour when absent. */
  expiresInSeconds?: number;
  /** The `kid` header; the issuer's own key id when absent (another one makes the server find no key). */
  kid?: string;
  subject?: string;
}

/** Mints API keys: RS256 JWTs as Temporal's default claim mapper reads them. */
export interface JwtIssuer {
  readonly kid: string;
  /** The public key as one JWKS entry, for a key source the server fetches. */
  readonly publicJwk: JsonWebKey;
  mint(options: ApiKeyOptions): string;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A fresh RSA key pair. node:crypto rather than a JWT library: it exports the public key as a JWK
 * and signs RS256, which is all a test issuer needs, and adds no dependency to keep up to date.
 */
export function createJwtIssuer(kid = `lifeline-test-${randomUUID()}`): JwtIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    publicJwk,
    mint({ permissions, expiresInSeconds = 3600, kid: keyId = kid, subject = 'lifeline-test' }) {
      const now = Math.floor(Date.now() / 1000);
      const unsigned = `${base64url({ alg: 'RS256', typ: 'JWT', kid: keyId })}.${base64url({ sub: subject, iat: now, exp: now + expiresInSeconds, permissions })}`;
      const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url');
      return `${unsigned}.${signature}`;
    },
  };
}
