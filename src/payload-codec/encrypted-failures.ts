import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces (an agent's error text, an unknown agent's name) moved into
 * an encoded payload, so the payload codec encrypts them like any input or result. Workers load it
 * by path, inside and outside the workflow sandbox; clients need nothing: Temporal's default
 * converter already reads encoded failures.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
