import { stuckWorkflowsQuery } from '../reconciler/stuck-executions.js';
import { executionWorkflowType } from '../contract/execution-contract.js';

/** A ready Temporal UI query for operators: what it shows, the visibility query, and the link. */
export interface OperatorView {
  title: string;
  query: string;
  url: string;
}

const executions = `WorkflowType = "${executionWorkflowType}"`;

/**
 * The Temporal UI's workflow list filtered to what an operator looks for. Every view names the
 * execution workflow type, so the reconciler's runs (one a minute, from its schedule) never drown
 * the executions: the reconciler must run whether or not anything looks live, since the rows it
 * exists for are the ones nothing else sees, so its runs are filtered out rather than made fewer.
 * Times are fixed when the links are made: `lifeline ui` prints fresh ones.
 */
export function operatorViews(opts: { uiUrl: string; namespace: string; agents: string[]; tenants?: string[]; now: Date }): OperatorView[] {
  const hourAgo = new Date(opts.now.getTime() - 3600_000).toISOString();
  const views: [string, string][] = [
    ['executions (no reconciler runs)', executions],
    ...opts.agents.map((agent): [string, string] => [
      `running on ${agent}`,
      `${executions} AND LifelineAgent = "${agent}" AND LifelineStatus = "running"`,
    ]),
    ...(opts.tenants ?? []).map((tenant): [string, string] => [
      `live executions of tenant ${tenant}`,
      `${executions} AND LifelineTenant = "${tenant}" AND ExecutionStatus = "Running"`,
    ]),
    ['failed or timed out in the last hour', `${executions} AND LifelineStatus IN ("failed", "timed_out") AND CloseTime > "${hourAgo}"`],
    // The UI lists the newest first: the longest-queued are at the end.
    ['queued (longest waiting last)', `${executions} AND LifelineStatus = "queued"`],
    ['admitted, waiting for a worker', `${executions} AND LifelinePhase = "awaiting_worker"`],
    // No row yet: no worker has run its first workflow task (a task queue nobody polls, say).
    ['accepted, not yet picked up by any worker', `${executions} AND ExecutionStatus = "Running" AND LifelinePhase IS NULL`],
    ['problems: workflow task failing', stuckWorkflowsQuery()],
  ];
  return views.map(([title, query]) => ({
    title,
    query,
    url: `${opts.uiUrl}/namespaces/${encodeURIComponent(opts.namespace)}/workflows?query=${encodeURIComponent(query)}`,
  }));
}
