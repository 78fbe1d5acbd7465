/** The label of every tenant outside the named ones. */
export const otherTenants = 'other';

/**
 * A tenant's value for the `tenant` label of a metric, with the series it makes bounded: at most
 * `top` tenants are named at once, every other one is `other`. While fewer are named, a tenant is
 * named as it comes; after that, every `electEvery` executions the busiest are named anew, so a
 * tenant that becomes busy gets its name within one election, and no election names more than
 * `top`. Activity is counted with the space-saving algorithm (Metwally et al.) over `4 × top`
 * counters, each with the count it may have inherited, so memory stays bounded however many
 * tenants come and go, and a burst of one-off tenants never outranks a busy one: only counts
 * known to be at least 2 are elected. Counts are halved at each election, so activity ages.
 */
export function createTenantLabels(top: number, electEvery = 1000) {
  const counters = new Map<string, { count: number; inherited: number }>();
  const capacity = Math.max(1, top) * 4;
  let named = new Set<string>();
  let sinceElection = 0;

  function count(tenant: string): void {
    const counter = counters.get(tenant);
    if (counter) counter.count += 1;
    else if (counters.size < capacity) counters.set(tenant, { count: 1, inherited: 0 });
    else {
      let least: [string, { count: number }] | undefined;
      for (const entry of counters) if (!least || entry[1].count < least[1].count) least = entry;
      counters.delete(least![0]);
      counters.set(tenant, { count: least![1].count + 1, inherited: least![1].count });
    }
  }

  function elect(): void {
    const known = [...counters]
      .map(([tenant, c]) => [tenant, c.count - c.inherited] as const)
      .filter(([, sure]) => sure >= 2)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([tenant]) => tenant);
    // Too few known to be busy: the names of the last election fill the rest, so nothing churns.
    named = new Set([...known, ...[...named].filter((t) => !known.includes(t))].slice(0, top));
    for (const [tenant, c] of counters) {
      c.count = Math.floor(c.count / 2);
      c.inherited = Math.floor(c.inherited / 2);
      if (c.count === 0) counters.delete(tenant);
    }
  }

  return (tenant: string): string => {
    if (top <= 0) return otherTenants;
    count(tenant);
    if (!named.has(tenant) && named.size < top) named.add(tenant);
    if (++sinceElection >= electEvery) {
      sinceElection = 0;
      elect();
    }
    return named.has(tenant) ? tenant : otherTenants;
  };
}
