import { redactedAddress } from './config/server-address.js';
import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { checkReachable, resolveAgentUser } from './agent-server/agent-user.js';
import { demoAgentConfig, demoCommandFiles } from './agent-server/demo-agents.js';
import { LifelineClient } from './client/lifeline-client.js';
import { ConfigError, describeConfig, loadConfig } from './config/config.js';
import { createPool } from './db/pool.js';
import { dataConverterOptions, payloadCodecFromConfig } from './payload-codec/data-converter.js';
import { startStackAgentServer, type StackAgentServer } from './stack/agent-server-process.js';
import { writeDemoAgentTokens } from './stack/demo-agent-tokens.js';
import { startDevStack, type DevStack } from './stack/dev-stack.js';
import { removeStackFile, writeStackFile } from './config/stack-file.js';
import { createAgentStore } from './store/agent-store.js';
import { operatorViews } from './temporal/operator-views.js';
import { connectTemporalClient } from './temporal-connection/connect.js';
import { TemporalConnectionError } from './temporal-connection/connect-failure.js';
import { registerSearchAttributes } from './temporal-prerequisites/register-search-attributes.js';
import { waitForSearchAttributes } from './temporal-prerequisites/search-attribute-usable.js';
import { startWorker, type RunningWorker } from './worker.js';
import { PortInUseError } from './util/listen.js';
import { join } from 'node:path';
import { exitsAfterStart, retryOnPortConflict } from './stack/port-conflicts.js';
import { startPhoenix, type PhoenixServer } from './stack/phoenix-server.js';
import { stackBanner } from './stack/stack-banner.js';
import { stackLogger } from './stack/stack-logger.js';
import { tracingClientInterceptors } from './tracing/client-tracing.js';
import { startOtlpTracing, startTracingFromEnv, type Tracing } from './tracing/tracing.js';

/** The demo agents `npm start` runs on the reference agent server. */
const demoAgents = [
  { name: 'demo-coder', capacity: 2, defaultTimeoutSeconds: 120 },
  { name: 'demo-script', capacity: 1, defaultTimeoutSeconds: 30 },
];

/** One of each ending, so a newcomer sees success, failure and timeout within a minute. */
const demoExecutions = [
  { agent: 'demo-coder', prompt: 'succeed 3 refactored the parser, all tests green' },
  { agent: 'demo-coder', prompt: 'fail 2' },
  { agent: 'demo-script', prompt: 'hang', timeoutSeconds: 15 },
];

const usage = `Usage: npm start [-- --traces]

Runs a local Lifeline until Ctrl-C: Temporal (with its Web UI), Postgres, Redis, the reference
agent server with demo agents, a worker and three demo executions.

  --traces   also run Phoenix, a local trace viewer, and send it every execution's spans
             (installed once into ~/.cache/lifeline/phoenix: about 900 MB, a minute or two)

Configuration: the environment variables in docs/configuration.md (LIFELINE_DATA_DIR, LIFELINE_UI_PORT, OTEL_*, ...).`;

/**
 * `npm start`: a local Lifeline. Brings up Temporal (with its Web UI), Postgres and Redis, the
 * reference agent with demo agents, a worker, and a few demo executions; runs until Ctrl-C and
 * then stops everything it started.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) return void console.log(usage);
  const unknown = args.filter((a) => a !== '--traces');
  if (unknown.length > 0) throw new ConfigError(`npm start: unknown argument ${unknown.join(' ')}\n\n${usage}`);
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  // Everything goes to a file; the terminal gets warnings and errors, one short line each, and the banner.
  const { log, logFile } = stackLogger(dataDir, config.logLevel);
  log.info({ config: describeConfig(config) }, 'configuration');
  console.log(`Starting Lifeline: Temporal, Postgres, Redis, the agent server and a worker (log ${logFile})...`);

  let stack: DevStack | undefined;
  let agentServer: StackAgentServer | undefined;
  let worker: RunningWorker | undefined;
  let phoenix: PhoenixServer | undefined;
  let tracing: Tracing | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (code: number) => {
    stopping ??= (async () => {
      log.info('stopping Lifeline');
      await worker?.stop().catch((err: Error) => log.error({ err: err.message }, 'worker stop failed'));
      await tracing?.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'could not send the last spans'));
      await phoenix?.stop().catch((err: Error) => log.error({ err: err.message }, 'Phoenix stop failed'));
      await agentServer?.stop().catch((err: Error) => log.error({ err: err.message }, 'agent server stop failed'));
      removeStackFile(dataDir);
      await stack?.stop();
      log.info('stopped');
      process.exit(code);
    })();
    return stopping;
  };
  // Not once: a second Ctrl-C while stopping would otherwise kill the process halfway through its cleanup.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) log.warn(`${signal}: already stopping; the servers and agent runs are being stopped, please wait`);
      void shutdown(0);
    });
  }

  stack = await startDevStack({
    dir: dataDir,
    log,
    namespace: config.temporal.namespace,
    temporalAddress: config.temporal.address,
    databaseUrl: config.databaseUrl,
    redisUrl: config.redisUrl,
    temporalCliPath: config.temporal.cliPath,
    temporalUiPort: config.uiPort,
    persistTemporal: true,
    onUnexpectedExit: (message) => {
      log.error(message);
      void shutdown(1);
    },
  });

  const tokens = writeDemoAgentTokens(
    config.agentTokens.dir,
    demoAgents.map((a) => a.name),
  );
  // Fails now, naming the file, if the user who runs agent processes cannot reach the demo command.
  const agentUser = resolveAgentUser(config.agentUser);
  if (agentUser) for (const a of demoAgents) checkReachable(a.name, demoCommandFiles(), agentUser);
  const agentServerExits = exitsAfterStart((message) => {
    log.error(message);
    void shutdown(1);
  });
  agentServer = await retryOnPortConflict('agent server', log, () =>
    startStackAgentServer({
      dir: dataDir,
      config: {
        runAgentsAs: config.agentUser,
        agents: Object.fromEntries(demoAgents.map((a) => [a.name, demoAgentConfig(tokens[a.name]!.token)])),
      },
      logLevel: config.logLevel,
      onUnexpectedExit: agentServerExits.onUnexpectedExit,
    }),
  );
  agentServerExits.up();
  const pool = createPool(stack.databaseUrl, log, 2);
  const agentStore = createAgentStore(pool);
  for (const a of demoAgents) {
    await agentStore.upsert({ ...a, baseUrl: agentServer.baseUrlFor(a.name), token: tokens[a.name]!.reference });
  }

  // Its own dev server, or the Temporal configured (TEMPORAL_*, a temporal.toml profile), with its TLS and key.
  const ownTemporal = stack.temporal !== undefined;
  const temporal = ownTemporal
    ? { ...config.temporal, address: stack.temporalAddress, addressFrom: 'npm start', tls: false, apiKey: undefined, metadata: {} }
    : { ...config.temporal, address: stack.temporalAddress };
  const connection = await connectTemporalClient(temporal);
  if (!ownTemporal) {
    // `npm start` is the whole system in one command: on a namespace it did not create it does what `lifeline setup` does.
    const { added } = await registerSearchAttributes(connection, temporal.namespace);
    if (added.length > 0)
      log.info({ namespace: temporal.namespace, added }, 'search attributes added; waiting until the namespace accepts them');
    await waitForSearchAttributes(connection, temporal.namespace);
  }
  if (args.includes('--traces')) {
    const phoenixExits = exitsAfterStart((message) => log.error(message));
    phoenix = await retryOnPortConflict('Phoenix', log, () =>
      startPhoenix({ dir: join(dataDir, 'phoenix'), log, onUnexpectedExit: phoenixExits.onUnexpectedExit }),
    );
    phoenixExits.up();
    tracing = startOtlpTracing(phoenix.tracesUrl, phoenix.exportHeaders, 'lifeline');
  } else {
    tracing = startTracingFromEnv('lifeline');
  }
  // The metrics port is preferred: a second `npm start` on this machine takes another.
  worker = await startWorker({ ...config, temporal, databaseUrl: stack.databaseUrl, redisUrl: stack.redisUrl }, log, {
    tracing,
    metricsPortPreferred: true,
  });
  worker.done.catch((err: Error) => {
    log.error({ err: err.message }, 'worker failed');
    void shutdown(1);
  });
  const client = new LifelineClient({
    temporal: new Client({
      connection,
      namespace: stack.namespace,
      ...dataConverterOptions(payloadCodecFromConfig(config)),
      interceptors: tracingClientInterceptors(),
    }),
    pool,
    taskQueue: config.temporal.taskQueue,
    schedulePolicy: config.schedulePolicy,
  });
  const started = [];
  for (const demo of demoExecutions) started.push(await client.startExecution({ ...demo, trigger: 'demo' }));

  const ui = stack.temporalUiUrl ? `${stack.temporalUiUrl}/namespaces/${stack.namespace}/workflows` : '(external Temporal: its own UI)';
  const places: [string, string][] = [
    ['Temporal UI', ui],
    [
      'Temporal',
      `${stack.temporalAddress} (namespace ${stack.namespace}, task queue ${config.temporal.taskQueue}${ownTemporal ? '' : `; from ${temporal.addressFrom}`})`,
    ],
    ['Postgres', redactedAddress(stack.databaseUrl)],
    ['Redis', redactedAddress(stack.redisUrl)],
    [
      'Agent server',
      `${agentServer.url} (agents: ${demoAgents.map((a) => a.name).join(', ')}; processes run as ${agentUser?.name ?? 'you'})`,
    ],
    ['Metrics', worker.metricsUrl ?? 'off (LIFELINE_METRICS_PORT)'],
    ['Traces', tracesPlace(phoenix, tracing)],
  ];
  const logFiles = [logFile, ...stack.logFiles, agentServer.logFile, ...(phoenix ? [phoenix.logFile] : [])];
  const stackFile = writeStackFile(dataDir, {
    temporal: ownTemporal
      ? { address: stack.temporalAddress, namespace: stack.namespace, taskQueue: config.temporal.taskQueue, uiUrl: stack.temporalUiUrl }
      : undefined,
    databaseUrl: stack.databaseUrl,
    redisUrl: stack.redisUrl,
    places,
    logFiles,
    traceUrl: phoenix && `${phoenix.url}/redirects/traces/{traceId}`,
  });
  console.log(
    [
      '',
      ...stackBanner({ places, logFiles, stackFile }),
      `  Demo executions: ${started.map((s) => s.executionId).join(', ')}`,
      '  See them:  npm run -s lifeline -- executions list',
      ...(stack.temporalUiUrl
        ? [
            '  Temporal UI views (fresh ones: npm run -s lifeline -- ui):',
            ...operatorViews({
              uiUrl: stack.temporalUiUrl,
              namespace: stack.namespace,
              agents: demoAgents.map((a) => a.name),
              now: new Date(),
            }).map((v) => `    ${v.title}: ${v.url}`),
          ]
        : []),
      '',
      'Lifeline is running. Ctrl-C stops everything; `npm run -s lifeline -- status` shows this again.',
      '',
    ].join('\n'),
  );
}

/** Where the traces of this stack can be seen. */
function tracesPlace(phoenix: PhoenixServer | undefined, tracing: Tracing | undefined): string {
  if (phoenix) return `${phoenix.url} (Phoenix; sign in as admin@localhost with adminPassword from ${phoenix.secretsFile})`;
  if (tracing) return 'exported as OTEL_* configures';
  return 'off (npm start -- --traces shows them in a local viewer; or set OTEL_EXPORTER_OTLP_ENDPOINT)';
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof TemporalConnectionError || err instanceof PortInUseError ? err.message : err);
  process.exit(1);
});
