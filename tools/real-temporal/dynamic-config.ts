import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { readDeployDynamicConfig } from '../../src/stack/temporal-dynamic-config.js';

/**
 * Writes the deployed settings (deploy/temporal/dynamic-config.yaml, which Compose mounts) to
 * `file`, with `overrides` (key to value, for every constraint) on top: the local timing of
 * temporal-dynamic-config.ts, or one setting a test studies.
 */
export function writeDynamicConfig(file: string, overrides: Record<string, unknown> = {}): void {
  const config = readDeployDynamicConfig();
  for (const [key, value] of Object.entries(overrides)) config[key] = [{ value }];
  writeFileSync(file, stringify(config));
}
