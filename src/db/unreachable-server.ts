/**
 * A server Lifeline could not connect to, named with its address (never a password) and the
 * variable that set it, so the message says where to look.
 */
export class UnreachableServerError extends Error {
  override name = 'UnreachableServerError';
  constructor(
    readonly server: 'Postgres' | 'Redis' | 'Temporal',
    readonly address: string,
    readonly variable: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot connect to ${server} at ${address} (${variable}): ${reason}`, options);
  }
}
