import type { Connection } from '@temporalio/client';
import { searchAttributes } from '../domain/search-attributes.js';
import { waitUntil } from '../util/wait-until.js';

const names = Object.values(searchAttributes).map((key) => key.name);

/** gRPC codes meaning "you may not ask this" or "this server cannot answer it", not "it is missing". */
const notPermitted = new Set([7 /* PERMISSION_DENIED */, 12 /* UNIMPLEMENTED */, 16 /* UNAUTHENTICATED */]);
const grpcCode = (err: unknown) => (err as { code?: number }).code;

/**
 * The Lifeline search attributes that visibility refuses on `namespace`, asked with one count query
 * each. It needs only read rights, and it is what a start needs: a server answers it only once
 * its namespace registry maps the attribute (right after an add, about 10 s later on a real server).
 */
export async function unusableSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const refused: string[] = [];
  for (const name of names) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace, query: `${name} = 'lifeline-setup-probe'` });
    } catch (err) {
      if (grpcCode(err) === 3 /* INVALID_ARGUMENT */) refused.push(name);
      else throw err;
    }
  }
  return refused;
}

/**
 * The Lifeline search attributes missing on `namespace`, checked without writing anything: from the
 * operator service's list (which also catches a wrong type), or, where a namespace-scoped
 * credential may not list them (Temporal Cloud API keys), from visibility.
 */
export async function missingSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  let existing: Record<string, unknown>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (!notPermitted.has(grpcCode(err) ?? -1)) throw err;
    return unusableSearchAttributes(connection, namespace);
  }
  return names.filter((name) => !(name in existing));
}

/**
 * Waits until every Lifeline search attribute can be used in queries and starts on `namespace`
 * (the race a fresh namespace has on a real server: added, but refused for a while).
 */
export async function waitForSearchAttributes(connection: Connection, namespace: string, timeoutMs = 120_000): Promise<void> {
  let refused: string[] = names;
  await waitUntil(
    async () => {
      refused = await unusableSearchAttributes(connection, namespace);
      return refused.length === 0;
    },
    {
      what: `namespace ${namespace} to accept search attributes`,
      timeoutMs,
      intervalMs: 500,
      hint: () => `still refused: ${refused.join(', ')}`,
    },
  );
}

/** The commands an operator runs where Lifeline may not write to the namespace: the Temporal CLI (self-hosted) and tcld (Temporal Cloud). */
export function searchAttributeSetupCommands(namespace: string): string[] {
  return [
    '# self-hosted Temporal (a credential with admin rights on the namespace):',
    ...names.map((name) => `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Keyword`),
    '# Temporal Cloud (namespace id is <namespace>.<account>):',
    `tcld namespace search-attributes add --namespace ${namespace} ${names.map((n) => `--search-attribute "${n}=Keyword"`).join(' ')}`,
  ];
}
