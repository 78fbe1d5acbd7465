import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadAgentServerConfig } from '../src/agent-server/agent-server-config.js';
import { configSchema, loadConfig } from '../src/config/config.js';
import { ensureComposeCli } from './support/compose-cli.js';

const composeFile = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));
const secrets = { POSTGRES_PASSWORD: 'compose-test-password', AGENT_TOKEN: 'compose-test-agent-token' };
const lifelineVariable = /^(LIFELINE_\w+|DATABASE_URL|REDIS_URL)$/;

interface ComposeService {
  environment?: Record<string, string | number | null> | string[];
  command?: string[];
  container_name?: string;
  ports?: unknown[];
  expose?: (string | number)[];
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
}

/** `docker compose config` with only the given variables: no shell environment, no .env file. */
function composeConfig(compose: string, env: Record<string, string>) {
  const args = ['--env-file', '/dev/null', '--profile', 'codec', '-f', composeFile, 'config', '--format', 'json'];
  const result = spawnSync(compose, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...env },
    encoding: 'utf8',
  });
  return { ...result, command: `${compose} ${args.join(' ')}` };
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
}

describe('docker-compose.yml', () => {
  let compose: string;
  // A first build of the Compose CLI downloads and compiles it: minutes, then cached.
  beforeAll(async () => {
    compose = await ensureComposeCli();
  }, 20 * 60_000);

  const raw = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const defaultMetricsPort = configSchema.shape.LIFELINE_METRICS_PORT.parse(undefined);

  it('is accepted by `docker compose config` and renders every part of the deployment', () => {
    const result = composeConfig(compose, secrets);
    expect(result.status, `${result.command}\n${result.stderr}`).toBe(0);
    const rendered = JSON.parse(result.stdout) as { services: Record<string, unknown> };
    expect(Object.keys(rendered.services).sort()).toEqual(
      [
        'agent',
        'agent-registration',
        'codec',
        'postgres',
        'redis',
        'setup',
        'temporal',
        'temporal-namespace',
        'temporal-schema',
        'temporal-ui',
        'worker',
      ].sort(),
    );
  });

  it.each(Object.keys(secrets))('refuses to render without %s instead of using a baked-in value', (name) => {
    const result = composeConfig(compose, Object.fromEntries(Object.entries(secrets).filter(([k]) => k !== name)));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`required variable ${name} is missing a value`);
  });

  it("mounts a valid reference-agent config whose agent, URL and token match the agent's registration and the workers' environment", () => {
    const result = composeConfig(compose, secrets);
    expect(result.status, `${result.command}\n${result.stderr}`).toBe(0);
    const rendered = JSON.parse(result.stdout) as {
      configs: Record<string, { content: string }>;
      services: Record<string, ComposeService>;
    };
    const agentConfig = loadAgentServerConfig(JSON.parse(rendered.configs['agent-server']!.content));
    expect(Object.keys(agentConfig.agents)).toEqual(['demo-coder']);
    expect(agentConfig.agents['demo-coder']!.token).toBe(secrets.AGENT_TOKEN);
    const registration = rendered.services['agent-registration']!;
    expect(registration.command).toEqual(
      expect.arrayContaining(['--name=demo-coder', `--url=http://agent:${agentConfig.port}/agents/demo-coder`, '--token-env=AGENT_TOKEN']),
    );
    // The registration stores the reference; the workers, which call the agent, hold the token.
    expect(environmentOf(registration).AGENT_TOKEN).toBeUndefined();
    expect(environmentOf(rendered.services.worker!).AGENT_TOKEN).toBe(secrets.AGENT_TOKEN);
  });

  it('sets only variables that src/config/config.ts knows', () => {
    const known = new Set(Object.keys(configSchema.shape));
    const set = Object.entries(raw.services).flatMap(([name, service]) =>
      Object.keys(environmentOf(service))
        .filter((v) => lifelineVariable.test(v))
        .map((v) => `${name}: ${v}`),
    );
    expect(set).toEqual(expect.arrayContaining(['worker: DATABASE_URL', 'worker: REDIS_URL', 'worker: LIFELINE_TEMPORAL_UI_URL']));
    expect(set.filter((entry) => !known.has(entry.split(': ')[1]!))).toEqual([]);
  });

  it("reaches Temporal by Temporal's own variables, passing TLS and API-key settings through only when set", () => {
    const plain = JSON.parse(composeConfig(compose, secrets).stdout) as { services: Record<string, ComposeService> };
    const env = environmentOf(plain.services.worker!);
    expect(env).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default', TEMPORAL_API_KEY: '', TEMPORAL_TLS: '' });
    // Empty means "not set" to Lifeline (as to Compose's users): the plain cluster below needs no TLS.
    expect(loadConfig({ ...env, TEMPORAL_CONFIG_FILE: '/nonexistent' }).temporal).toMatchObject({
      address: 'temporal:7233',
      tls: false,
      apiKey: undefined,
    });
    expect(env.LIFELINE_TEMPORAL_UI_URL).toBe('http://localhost:8233');

    const cloud = {
      TEMPORAL_ADDRESS: 'agents.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'agents.acct',
      TEMPORAL_API_KEY: 'compose-test-api-key',
    };
    const rendered = JSON.parse(composeConfig(compose, { ...secrets, ...cloud }).stdout) as { services: Record<string, ComposeService> };
    for (const name of ['worker', 'setup']) expect(environmentOf(rendered.services[name]!)).toMatchObject(cloud);
    // The agent and its processes never see Temporal's credentials.
    expect(Object.keys(environmentOf(rendered.services.agent!)).filter((v) => v.startsWith('TEMPORAL_'))).toEqual([]);
  });

  it('mounts Temporal certificates read-only, only where Lifeline talks to Temporal', () => {
    const rendered = JSON.parse(composeConfig(compose, secrets).stdout) as {
      services: Record<string, ComposeService & { volumes?: { target: string; read_only?: boolean }[] }>;
    };
    const tlsMount = (name: string) => rendered.services[name]!.volumes?.find((v) => v.target === '/etc/lifeline/temporal-tls');
    for (const name of ['worker', 'setup']) expect(tlsMount(name)).toMatchObject({ read_only: true });
    expect(tlsMount('agent')).toBeUndefined();
  });

  it('publishes the Temporal UI on loopback only, and creates the namespace once the cluster is healthy', () => {
    const rendered = JSON.parse(composeConfig(compose, secrets).stdout) as {
      services: Record<string, ComposeService & { ports?: { host_ip?: string; published?: string }[] }>;
    };
    expect(rendered.services['temporal-ui']!.ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', published: '8233' })]);
    expect(raw.services['temporal-namespace']!.command!.join('\n')).toContain('temporal operator cluster health');
  });

  it('publishes nothing beyond loopback unless asked, and the UI is read-only unless asked', () => {
    type Published = { services: Record<string, Omit<ComposeService, 'ports'> & { ports?: { host_ip?: string; published?: string }[] }> };
    const publishedBeyondLoopback = (env: Record<string, string>) =>
      Object.entries((JSON.parse(composeConfig(compose, { ...secrets, ...env }).stdout) as Published).services).flatMap(([name, service]) =>
        (service.ports ?? []).filter((p) => p.host_ip !== '127.0.0.1').map((p) => `${name}:${p.published}`),
      );
    expect(publishedBeyondLoopback({})).toEqual([]);
    // The one opt-in, named for what it opens.
    expect(publishedBeyondLoopback({ TEMPORAL_UI_HOST_IP: '0.0.0.0' })).toEqual(['temporal-ui:8233']);
    const ui = (env: Record<string, string>) =>
      environmentOf((JSON.parse(composeConfig(compose, { ...secrets, ...env }).stdout) as Published).services['temporal-ui']!);
    expect(ui({})).toMatchObject({ TEMPORAL_DISABLE_WRITE_ACTIONS: 'true', TEMPORAL_AUTH_ENABLED: 'false' });
    expect(ui({ TEMPORAL_UI_DISABLE_WRITE_ACTIONS: 'false' }).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('false');
  });

  it('takes every password, token and key from the environment', () => {
    const literal = Object.entries(raw.services).flatMap(([name, service]) =>
      Object.entries(environmentOf(service))
        .filter(
          ([k, v]) =>
            /PASSWORD|PWD|TOKEN|KEY|DATABASE_URL/.test(k) &&
            !/\$\{(POSTGRES_PASSWORD|AGENT_TOKEN|LIFELINE_CODEC_\w+|TEMPORAL_\w+)[:}]/.test(v),
        )
        .map(([k]) => `${name}: ${k}`),
    );
    expect(literal).toEqual([]);
  });

  it('runs scalable workers whose metrics endpoint is the default LIFELINE_METRICS_PORT', () => {
    const worker = raw.services.worker!;
    expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(environmentOf(worker).LIFELINE_METRICS_PORT ?? String(defaultMetricsPort)).toBe(String(defaultMetricsPort));
    expect(worker.expose?.map(String)).toContain(String(defaultMetricsPort));
    expect(worker.healthcheck?.test.join(' ')).toContain(`:${defaultMetricsPort}/metrics`);
  });
});
