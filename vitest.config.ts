import { defineConfig } from 'vitest/config';

/**
 * Four projects: `unit` (pure logic, no server: `npm run test:unit`), `workflow` (the execution
 * workflow with stubbed activities on Temporal's time-skipping test server, which each file starts
 * itself), `integration` (real Temporal, Postgres, Redis and agents, started once by the global
 * setup) and `real-server` (a real temporal-server, not the dev server, with mTLS on Postgres, built
 * once from source: tools/real-temporal). `npm test` runs all four.
 */
export default defineConfig({
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
          include: ['test/real-server/**/*.test.ts'],
          globalSetup: ['test/real-server/support/global-setup.ts'],
        },
      },
    ],
  },
});
