import { defineConfig } from 'vitest/config';

/**
 * Four projects: `unit` (pure logic, no server: `npm run test:unit`), `workflow` (the execution
 * workflow with stubbed activities on Temporal's time-skipping test server, which each file starts
 * itself), `integration` (real Temporal, Postgres, Redis and agents, started once by the global
 * setup) and `real-server` (a real temporal-server, not the dev server, with mTLS on Postgres, built
 * once from source: tools/real-temporal). `npm test` runs all four.
 */
/**
 * Integration files the `real-server` project runs again against a real temporal-server with mutual
 * TLS. Worker Versioning and the failure endings are not among them: the matching and deployment
 * code, and the paths from an agent's answer to a row, are the same on the dev server, and their
 * minutes went to keeping `npm test` within fifteen.
 */
const realServerSharedTests = [
  'test/execution-success.test.ts',
  'test/operator-stop.test.ts',
  'test/worker-kill.test.ts',
  'test/schedules.test.ts',
  'test/reconciler.test.ts',
  'test/stuck-executions.test.ts',
  'test/no-worker-polling.test.ts',
];

export default defineConfig({
  // `lifeline/client` and `lifeline/testing` (the examples import them as a user does) resolve to the
  // TypeScript sources, as in tsconfig.json's customConditions; consumers get the compiled files.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    // Real servers on 2 cores: generous per-test limits, and tests poll with their own deadlines.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'workflow', include: ['test/workflow/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/*.test.ts', 'test/examples/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'real-server',
          // Its own tests, and shared ones where a dev server could hide a difference (mutual TLS
          // on every connection, SQL visibility, a real matching service and Schedules).
          include: ['test/real-server/**/*.test.ts', ...realServerSharedTests],
          globalSetup: ['test/real-server/support/global-setup.ts'],
        },
      },
    ],
  },
});
