import type { Harness } from './lifeline-harness.js';

/** The value of a counter's series (the one matching every label given) in the harness's in-process worker. */
export async function counterValue(h: Harness, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await h.deps.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}
