import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * The Temporal server settings Lifeline relies on, the one file Compose mounts and every server
 * Lifeline starts itself (the dev server of `npm start` and the tests, the real server of the
 * `real-server` tests and the chaos run) reads too.
 */
export const deployDynamicConfigFile = fileURLToPath(new URL('../../deploy/temporal/dynamic-config.yaml', import.meta.url));

/** A dynamic config file: each key maps to a list of `{ value, constraints? }`. */
export type DynamicConfig = Record<string, { value: unknown; constraints?: Record<string, unknown> }[]>;

export function readDeployDynamicConfig(): DynamicConfig {
  return (parse(readFileSync(deployDynamicConfigFile, 'utf8')) as DynamicConfig | null) ?? {};
}

/**
 * Timing only, on the servers Lifeline starts on one machine, so that the demo and the tests see
 * in seconds what a deployment sees in a minute or three: a build's workers gone, a build drained.
 * One task queue partition spares a single local server hundreds of milliseconds of forwarding.
 */
export const localTimingOverrides: Record<string, unknown> = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  // An idle worker polls again every 10 s (60 s by default): LIFELINE_WORKER_GONE_SECONDS may go down to 20.
  'matching.longPollExpirationInterval': '10s',
  // A build reports drained this soon after its last pinned execution closed (3 minutes by default).
  'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '10s',
  'matching.wv.VersionDrainageStatusRefreshInterval': '5s',
};

/** Key to value as a local server runs it: the deployed settings (their unconstrained values), then the timing overrides. */
export function localDynamicConfig(): Record<string, unknown> {
  const deployed = Object.fromEntries(
    Object.entries(readDeployDynamicConfig()).flatMap(([key, values]) => {
      const plain = values.find((v) => !v.constraints);
      return plain ? [[key, plain.value]] : [];
    }),
  );
  return { ...deployed, ...localTimingOverrides };
}
