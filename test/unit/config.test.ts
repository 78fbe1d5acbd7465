import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../src/config/config.js';

describe('configuration from the environment', () => {
  it('reads an empty variable as not set (its default), never as 0', () => {
    const config = loadConfig({
      LIFELINE_RECONCILE_INTERVAL_SECONDS: '',
      LIFELINE_RECONCILE_GRACE_SECONDS: ' ',
      LIFELINE_METRICS_PORT: '',
      LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: '',
    });
    expect(config.reconciler).toMatchObject({ intervalSeconds: 60, graceSeconds: 30 });
    expect(config.metricsPort).toBe(9464);
    expect(config.execution.heartbeatTimeoutSeconds).toBe(30);
  });

  it('still takes an explicit 0 where 0 means off', () => {
    expect(
      loadConfig({ LIFELINE_RECONCILE_INTERVAL_SECONDS: '0', LIFELINE_METRICS_PORT: '0', LIFELINE_ALERT_REPEAT_SECONDS: '0' }),
    ).toMatchObject({
      reconciler: { intervalSeconds: 0, alertRepeatSeconds: 0 },
      metricsPort: 0,
    });
  });

  it('names every bad variable and its limit in one error', () => {
    const load = () => loadConfig({ LIFELINE_METRICS_PORT: 'abc', LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: '2' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: must be at least 3[\s\S]*LIFELINE_METRICS_PORT: must be a number/);
  });

  it('runs migrations on DATABASE_URL unless a direct URL of their own is given (a transaction-mode pooler), named in its errors', () => {
    const pooled = 'postgres://app@pgbouncer:6432/lifeline';
    expect(loadConfig({ DATABASE_URL: pooled }).migrationsDatabaseUrl).toBe(pooled);
    const direct = 'postgres://owner:s3cret@db:5432/lifeline';
    const config = loadConfig({ DATABASE_URL: pooled, LIFELINE_MIGRATIONS_DATABASE_URL: direct });
    expect(config).toMatchObject({ databaseUrl: pooled, migrationsDatabaseUrl: direct });
    expect(JSON.stringify(describeConfig(config))).not.toContain('s3cret');
    expect(() => loadConfig({ LIFELINE_MIGRATIONS_DATABASE_URL: 'mysql://db/x' })).toThrow(
      /LIFELINE_MIGRATIONS_DATABASE_URL: must be a URL like postgres/,
    );
    expect(() => loadConfig({ LIFELINE_MIGRATIONS_DATABASE_URL: 'postgres://db/x?sslrootcert=/nonexistent/ca.pem' })).toThrow(
      /LIFELINE_MIGRATIONS_DATABASE_URL: sslrootcert: cannot read/,
    );
  });

  it('turns Worker Versioning on only when asked, with a valid deployment name and build id', () => {
    expect(loadConfig({}).versioning).toBeUndefined();
    expect(loadConfig({ LIFELINE_WORKER_VERSIONING: 'on' }).versioning).toEqual({ deploymentName: 'lifeline', buildId: undefined });
    expect(
      loadConfig({ LIFELINE_WORKER_VERSIONING: 'on', LIFELINE_BUILD_ID: 'v2.1', LIFELINE_DEPLOYMENT_NAME: 'agents' }).versioning,
    ).toEqual({
      deploymentName: 'agents',
      buildId: 'v2.1',
    });
    const load = () => loadConfig({ LIFELINE_WORKER_VERSIONING: 'yes', LIFELINE_BUILD_ID: 'has space' });
    expect(load).toThrow(/LIFELINE_WORKER_VERSIONING[\s\S]*LIFELINE_BUILD_ID[^\n]*letters, digits, _ \. and -, at most 100/);
  });

  it('refuses a task queue it could not quote into a visibility query, and a worker-gone time below its floor', () => {
    expect(loadConfig({ LIFELINE_TASK_QUEUE: 'agents/eu-1' }).temporal.taskQueue).toBe('agents/eu-1');
    const load = () => loadConfig({ LIFELINE_TASK_QUEUE: "it's", LIFELINE_WORKER_GONE_SECONDS: '2' });
    expect(load).toThrow(
      /LIFELINE_TASK_QUEUE: letters, digits, _ \. : \/ and -, at most 200[\s\S]*LIFELINE_WORKER_GONE_SECONDS: must be at least 5/,
    );
  });
});
