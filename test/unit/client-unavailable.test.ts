import { describe, expect, it } from 'vitest';
import { LifelineUnavailableError } from '../../src/client/client-errors.js';
import { asUnavailable } from '../../src/client/unavailable.js';

/** An error as node-postgres reports a server error: the SQLSTATE in `code`. */
const pgError = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('telling "retry later" from a real error', () => {
  it('counts a Postgres that is shutting down or starting up as unavailable', () => {
    for (const err of [
      pgError('the database system is shutting down', '57P03'),
      pgError('the database system is starting up', '57P03'),
      pgError('terminating connection due to administrator command', '57P01'),
    ]) {
      expect(asUnavailable('Postgres', err)).toBeInstanceOf(LifelineUnavailableError);
    }
  });

  it('counts a connection reset mid-query as unavailable, as the failure table does', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(asUnavailable('Postgres', reset)).toBeInstanceOf(LifelineUnavailableError);
  });

  it('leaves other database errors as they are', () => {
    const err = pgError('duplicate key value violates unique constraint', '23505');
    expect(asUnavailable('Postgres', err)).toBe(err);
  });
});
