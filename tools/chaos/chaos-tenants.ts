import type { TenantChange } from '../../src/store/tenant-store.js';
import type { AgentRun } from './agent-ledger.js';
import type { ProcessGroup } from './process-sampler.js';

/** A tenant of a chaos run and the settings it is given before the workload starts. */
export interface ChaosTenant {
  name: string;
  settings: TenantChange;
}

/**
 * Three tenants share the run's agents: one limited across agents, one limited on each agent and
 * served first with twice the weight, one with the defaults. Named per run, so that runs sharing a
 * Postgres never mix them.
 */
export function chaosTenants(runId: string): ChaosTenant[] {
  return [
    { name: `wide-${runId}`, settings: { maxRunning: 3 } },
    { name: `narrow-${runId}`, settings: { maxRunningPerAgent: 1, weight: 2, priority: 2 } },
    { name: `plain-${runId}`, settings: {} },
  ];
}

/** Every limit the run's processes must keep at each sample: each agent's capacity, each tenant's limits. */
export function processGroups(
  agents: { name: string; capacity: number }[],
  tenants: ChaosTenant[],
  tenantOf: (executionId: string) => string | undefined,
): ProcessGroup[] {
  const ofTenant = (tenant: string) => (run: AgentRun) => tenantOf(run.executionId) === tenant;
  return [
    ...agents.map((a): ProcessGroup => ({ kind: 'agent', name: a.name, limit: a.capacity, includes: (run) => run.agent === a.name })),
    ...tenants.flatMap(({ name, settings }): ProcessGroup[] => [
      ...(settings.maxRunning
        ? [{ kind: 'tenant' as const, name: `tenant ${name}`, limit: settings.maxRunning, includes: ofTenant(name) }]
        : []),
      ...(settings.maxRunningPerAgent
        ? agents.map((a) => ({
            kind: 'tenant' as const,
            name: `tenant ${name} on ${a.name}`,
            limit: settings.maxRunningPerAgent!,
            includes: (run: AgentRun) => run.agent === a.name && ofTenant(name)(run),
          }))
        : []),
    ]),
  ];
}
