import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributes } from '../domain/search-attributes.js';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { IndexedValueType } = proto.temporal.api.enums.v1;
/** gRPC's status code UNIMPLEMENTED. */
const grpcUnimplemented = 12;

export interface SearchAttributeRegistration {
  added: string[];
  alreadyPresent: string[];
}

/**
 * Registers Lifeline's search attributes on a namespace of a Temporal server (the dev server gets
 * them at start). Idempotent: only the missing ones are added, so it is safe on every deploy. One
 * registered under the same name with another type is an error: workflows could not upsert it.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<SearchAttributeRegistration> {
  const wanted = Object.values(searchAttributes).map((key) => ({
    name: key.name,
    type: IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`],
  }));
  let existing: Record<string, unknown>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // Temporal's time-skipping test server can add search attributes but not list them.
    if ((err as { code?: number }).code !== grpcUnimplemented) throw err;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(wanted.map(({ name, type }) => [name, type])),
    });
    return { added: wanted.map((w) => w.name), alreadyPresent: [] };
  }
  const wrongType = wanted.filter(({ name, type }) => name in existing && existing[name] !== type);
  if (wrongType.length > 0) {
    const names = wrongType.map((w) => w.name).join(', ');
    throw new Error(`search attributes ${names} exist on namespace ${namespace} with another type; Lifeline needs Keyword`);
  }
  const missing = wanted.filter(({ name }) => !(name in existing));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(({ name, type }) => [name, type])),
    });
  }
  return {
    added: missing.map((m) => m.name),
    alreadyPresent: wanted.filter(({ name }) => name in existing).map((w) => w.name),
  };
}
