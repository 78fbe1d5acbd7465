import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/**
 * Compose's dynamic config, the single source for every real server Lifeline runs: a test that
 * passes here passes against the settings operators deploy.
 */
export const composeDynamicConfigFile = fileURLToPath(new URL('../../deploy/temporal/dynamic-config.yaml', import.meta.url));

/** A dynamic config file: each key maps to a list of `{ value, constraints? }`. */
export type DynamicConfig = Record<string, { value: unknown; constraints?: Record<string, unknown> }[]>;

export function readComposeDynamicConfig(): DynamicConfig {
  return (parse(readFileSync(composeDynamicConfigFile, 'utf8')) as DynamicConfig | null) ?? {};
}

/**
 * Writes Compose's settings to `file`, with `overrides` (key to value, for every constraint) on
 * top: for a test that studies one setting; without overrides the server runs Compose's file as is.
 */
export function writeDynamicConfig(file: string, overrides: Record<string, unknown> = {}): void {
  const config = readComposeDynamicConfig();
  for (const [key, value] of Object.entries(overrides)) config[key] = [{ value }];
  writeFileSync(file, stringify(config));
}
