import getPort from 'get-port';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msToTs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import type { ReconcileReport } from '../src/contract/reconcile-report.js';
import { writeStackFile } from '../src/config/stack-file.js';
import type { ExecutionRow, ExecutionSummary, TransitionRecord } from '../src/store/execution-reader.js';
import { waitUntil } from '../src/util/wait-until.js';
import { isolatedEnvironment } from '../tools/processes/isolated-environment.js';
import type { OperatorView } from '../src/temporal/operator-views.js';
import { cliEnvironment, runCli, type CliResult } from './support/cli-process.js';
import { probePid, waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';

const uiUrl = 'http://temporal-ui.test:8233';

interface ShownExecution {
  execution: ExecutionRow;
  transitions: TransitionRecord[];
  temporalUiUrl: string | null;
}

describe('the lifeline CLI', () => {
  let db: PrivateDatabase;
  let h: Harness;
  let emptyDir: string;
  let env: NodeJS.ProcessEnv;
  const lifeline = (...args: string[]): Promise<CliResult> => runCli(args, env);

  beforeAll(async () => {
    // `reconcile` acts on every row of its database: this file's rows live apart from other files'.
    db = await createPrivateDatabase('cli');
    h = await startHarness({
      agents: { demo: { capacity: 5 }, stdin: { capacity: 1, config: { promptVia: 'stdin' } } },
      databaseUrl: db.url,
    });
    emptyDir = mkdtempSync(join(tmpdir(), 'lifeline-cli-'));
    env = cliEnvironment(h, {
      LIFELINE_TEMPORAL_UI_URL: uiUrl,
      LIFELINE_RECONCILE_GRACE_SECONDS: '0',
      LIFELINE_STOP_WAIT_SECONDS: String(h.settings.stopWaitSeconds),
      // No stack file here: the variables above are all the CLI may use.
      LIFELINE_DATA_DIR: emptyDir,
    });
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
    if (emptyDir) rmSync(emptyDir, { recursive: true, force: true });
  });

  it('--help exits 0 and lists the command groups', async () => {
    const result = await lifeline('--help');
    expect(result.code).toBe(0);
    for (const command of ['executions', 'agents', 'schedules', 'reconcile', 'setup']) expect(result.stdout).toContain(command);
    const sub = await lifeline('executions', '--help');
    expect(sub.code).toBe(0);
    for (const command of ['list', 'show', 'start', 'stop']) expect(sub.stdout).toContain(command);
  });

  it('--help states every limit a flag has', async () => {
    // Commander wraps long lines: the limits are looked for in the text with its line breaks undone.
    const help = async (...command: string[]) => (await lifeline(...command, '--help')).stdout.replace(/\s+/g, ' ');
    const start = await help('executions', 'start');
    for (const limit of ['at most 256 KiB', '1-604800 s', '(5-86400)', 'at most 1000000', '1-200 letters', 'at most 63'])
      expect(start).toContain(limit);
    const schedule = await help('schedules', 'create');
    for (const limit of [
      '1-100 letters',
      'at most 256 KiB',
      'LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS',
      '1-604800 s',
      'at most 1000 characters',
    ])
      expect(schedule).toContain(limit);
    const agent = await help('agents', 'add');
    for (const limit of ['1-10000', '1-604800 s', '(5-86400)', 'at most 63']) expect(agent).toContain(limit);
    const tenant = await help('tenants', 'set');
    for (const limit of ['(0.01-1000', '(1-100000)', 'at most 1000000000', 'at most 63']) expect(tenant).toContain(limit);
  });

  it('agents add stores where the token is held, not the token; agents list shows that and never a literal', async () => {
    const harnessToken = h.agentServerConfig.agents[h.agent('demo')]!.token;
    const fromEnv = `cli-env-${uniqueSuffix()}`;
    const fromFile = `cli-file-${uniqueSuffix()}`;
    const fromLiteral = `cli-literal-${uniqueSuffix()}`;
    const secret = `secret-${uniqueSuffix()}`;
    const add = (name: string, ...token: string[]) =>
      runCli(
        [
          'agents',
          'add',
          '--name',
          name,
          '--url',
          'http://127.0.0.1:9/',
          ...token,
          '--capacity',
          '3',
          '--default-timeout',
          '45',
          '--default-idle-timeout',
          '300',
        ],
        {
          ...env,
          AGENT_TOKEN_CLI: secret,
          // The directory file: references must be in (agents add refuses one outside it).
          LIFELINE_AGENT_TOKEN_DIR: '/run/secrets',
        },
      );

    const added = [
      await add(fromEnv, '--token-env', 'AGENT_TOKEN_CLI'),
      await add(fromFile, '--token', 'file:/run/secrets/cli-agent'),
      await add(fromLiteral, '--token-literal', secret),
    ];
    expect(added.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(added[0]!.stdout).toContain(`agent ${fromEnv} saved (capacity 3, token env:AGENT_TOKEN_CLI)`);
    expect(added[2]!.stdout).toContain(`agent ${fromLiteral} saved (capacity 3, token literal (stored in Postgres))`);
    for (const r of added) expect(r.stdout + r.stderr).not.toContain(secret);
    // --token-env stores the name: the worker reads the variable when it calls the agent.
    expect(await h.deps.agents.getRegistration(fromEnv)).toEqual({
      name: fromEnv,
      baseUrl: 'http://127.0.0.1:9',
      capacity: 3,
      defaultTimeoutSeconds: 45,
      defaultIdleTimeoutSeconds: 300,
      token: { source: 'env', ref: 'AGENT_TOKEN_CLI' },
    });
    expect((await h.deps.agents.getRegistration(fromLiteral))?.token).toEqual({ source: 'literal', ref: secret });

    const listed = await lifeline('agents', 'list', '--json');
    expect(listed.code).toBe(0);
    const agents = JSON.parse(listed.stdout) as { name: string; capacity: number; token: unknown }[];
    expect(agents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: h.agent('demo'), capacity: 5, token: { source: 'literal' } }),
        expect.objectContaining({ name: fromEnv, token: { source: 'env', ref: 'AGENT_TOKEN_CLI' } }),
        expect.objectContaining({ name: fromFile, token: { source: 'file', ref: '/run/secrets/cli-agent' } }),
        expect.objectContaining({ name: fromLiteral, token: { source: 'literal' } }),
      ]),
    );
    const table = await lifeline('agents', 'list');
    expect(table.code).toBe(0);
    const rowOf = (name: string) => table.stdout.split('\n').find((line) => line.startsWith(`${name} `));
    expect(rowOf(fromEnv)).toContain('env:AGENT_TOKEN_CLI');
    expect(rowOf(fromFile)).toContain('file:/run/secrets/cli-agent');
    expect(rowOf(fromLiteral)).toContain('literal (stored in Postgres)');
    for (const output of [listed.stdout, table.stdout]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(harnessToken);
    }
  });

  it('agents add asks for --replace to replace an agent; agents remove refuses one with live executions unless forced', async () => {
    const name = `cli-twice-${uniqueSuffix()}`;
    const add = (...more: string[]) =>
      lifeline('agents', 'add', '--name', name, '--url', 'http://127.0.0.1:9', '--token-env', 'AGENT_TOKEN_CLI', ...more);
    expect((await add('--capacity', '1')).code).toBe(0);
    const again = await add('--capacity', '7');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`agent ${name} already exists (http://127.0.0.1:9, capacity 1); add --replace to replace it`);
    expect((await h.deps.agents.get(name))?.capacity).toBe(1);
    const replaced = await add('--capacity', '7', '--replace');
    expect(replaced).toMatchObject({ code: 0, stdout: expect.stringContaining(`agent ${name} replaced (capacity 7`) });

    // A live execution on it (one this test only records: the agent answers nowhere).
    const executionId = `cli-live-${uniqueSuffix()}`;
    await h.deps.executions.create({ id: executionId, agent: name, prompt: 'x', trigger: 'test', busyPolicy: 'queue', timeoutSeconds: 60 });
    const refused = await lifeline('agents', 'remove', name);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`agent ${name} has 1 queued or running execution (lifeline executions list --agent ${name})`);
    expect(await h.deps.agents.get(name)).toBeDefined();
    const forced = await lifeline('agents', 'remove', name, '--force');
    expect(forced).toMatchObject({ code: 0, stdout: expect.stringContaining('its 1 queued or running execution run on to their end') });
    expect(await h.deps.agents.get(name)).toBeUndefined();
    // Its history stays; a run it had still finds how to reach it.
    expect((await h.deps.executions.get(executionId))?.agent).toBe(name);
    expect((await h.deps.agents.getRegistration(name))?.baseUrl).toBe('http://127.0.0.1:9');
    expect((await lifeline('agents', 'list', '--json')).stdout).not.toContain(name);
    const unknown = await h.client.startExecution({ agent: name, prompt: 'x' }).catch((err: Error) => err);
    expect(String(unknown)).toContain(`unknown agent "${name}"`);
    expect((await lifeline('agents', 'remove', name)).stderr).toContain(`no agent ${name}`);
    // Added again, it is back.
    expect((await add('--capacity', '2')).code).toBe(0);
    expect((await h.deps.agents.get(name))?.capacity).toBe(2);
  });

  it('agents add refuses bad input naming each field, and never echoes a token given where a reference belongs', async () => {
    const refused = await lifeline('agents', 'add', '--name', 'Bad Name', '--url', 'ftp://x', '--token-file', 'run/x', '--capacity', '0');
    expect(refused.code).toBe(2);
    for (const field of ['name', 'baseUrl', 'capacity']) expect(refused.stderr).toContain(`${field}:`);
    expect(refused.stderr).toContain('token: file: needs an absolute path');

    const name = `cli-refused-${uniqueSuffix()}`;
    const secret = `secret-${uniqueSuffix()}`;
    const pasted = await lifeline('agents', 'add', '--name', name, '--url', 'http://127.0.0.1:9', '--token', secret, '--capacity', '1');
    expect(pasted.code).toBe(2);
    expect(pasted.stderr).toContain('--token: must be env:VAR or file:/absolute/path; a token itself is stored only with --token-literal');
    expect(pasted.stdout + pasted.stderr).not.toContain(secret);
    const emptyName = await lifeline('agents', 'add', '--name', name, '--url', 'http://127.0.0.1:9', '--token', 'env:', '--capacity', '1');
    expect(emptyName.stderr).toContain('token: env: needs a variable name');
    const two = await lifeline(
      'agents',
      'add',
      '--name',
      name,
      '--url',
      'http://127.0.0.1:9',
      '--token-env',
      'A',
      '--token-file',
      '/a',
      '--capacity',
      '1',
    );
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('give the bearer token with one of --token-env VAR');
    expect(await h.deps.agents.get(name)).toBeUndefined();
  });

  it('executions start runs one; executions show --json shows its row, audit trail and Temporal UI link', async () => {
    const executionId = `cli-start-${uniqueSuffix()}`;
    const started = await lifeline(
      'executions',
      'start',
      '--agent',
      h.agent('demo'),
      '--prompt',
      'succeed 0 from the cli',
      '--id',
      executionId,
      '--wait',
    );
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(executionId);

    const shown = await lifeline('executions', 'show', executionId, '--json');
    expect(shown.code).toBe(0);
    const { execution, transitions, temporalUiUrl } = JSON.parse(shown.stdout) as ShownExecution;
    expect(execution).toMatchObject({
      id: executionId,
      agent: h.agent('demo'),
      status: 'succeeded',
      trigger: 'cli',
      output: expect.stringContaining('from the cli'),
    });
    expect(transitions.map((t) => t.toStatus)).toEqual(['queued', 'running', 'succeeded']);
    expect(temporalUiUrl).toBe(`${uiUrl}/namespaces/${h.namespace}/workflows/${executionId}`);

    const human = await lifeline('executions', 'show', executionId);
    expect(human.stdout).toContain(`${uiUrl}/namespaces/${h.namespace}/workflows/${executionId}`);
    expect(human.stdout).toMatch(/status\s+succeeded/);

    // Without --wait it prints only the id; --wait exits 1 when the execution did not succeed.
    const failing = await lifeline('executions', 'start', '--agent', h.agent('demo'), '--prompt', 'fail 3', '--wait', '--json');
    expect(failing.code).toBe(1);
    expect((JSON.parse(failing.stdout) as ShownExecution).execution).toMatchObject({
      status: 'failed',
      errorKind: 'agent_failed',
      exitCode: 3,
    });
    const quick = await lifeline('executions', 'start', '--agent', h.agent('demo'), '--prompt', 'succeed 0');
    expect(quick.code).toBe(0);
    const quickId = quick.stdout.trim();
    expect(await h.client.waitForExecution(quickId, 30_000)).toMatchObject({
      status: 'succeeded',
      trigger: 'cli',
    });
  });

  it('ui prints the operator views as links, each a query Temporal accepts, none listing reconciler runs', async () => {
    const ui = await runCli(['ui', '--json'], env);
    expect(ui.code, ui.stderr).toBe(0);
    const views = JSON.parse(ui.stdout) as OperatorView[];
    expect(views.map((v) => v.title)).toContain(`running on ${h.agent('demo')}`);
    for (const view of views) {
      expect(view.url.startsWith(`${uiUrl}/namespaces/${h.namespace}/workflows?query=`)).toBe(true);
      expect(decodeURIComponent(view.url.split('?query=')[1]!)).toBe(view.query);
      expect(view.query).toMatch(/WorkflowType = ['"]agentExecution['"]/);
      await h.temporal.workflow.count(view.query);
    }
  });

  it('executions list filters by agent and status; executions stop ends a running execution with the operator reason', async () => {
    const executionId = `cli-stop-${uniqueSuffix()}`;
    expect((await lifeline('executions', 'start', '--agent', h.agent('demo'), '--prompt', 'hang', '--id', executionId)).code).toBe(0);
    const pid = await waitForAgentProcess(h, 'demo', executionId);

    const listed = await lifeline('executions', 'list', '--agent', h.agent('demo'), '--status', 'running', '--since', '10m', '--json');
    expect(listed.code).toBe(0);
    const running = JSON.parse(listed.stdout) as ExecutionSummary[];
    expect(running.map((r) => r.id)).toContain(executionId);
    expect(running.every((r) => r.status === 'running' && r.agent === h.agent('demo'))).toBe(true);
    const succeeded = JSON.parse((await lifeline('executions', 'list', '--status', 'succeeded', '--json')).stdout) as ExecutionSummary[];
    expect(succeeded.map((r) => r.id)).not.toContain(executionId);

    const stopped = await lifeline('executions', 'stop', executionId, '--reason', 'cli says stop');
    expect(stopped.code).toBe(0);
    const row = await waitForRowStatus(h.executions, executionId, 'cancelled');
    expect(row.errorKind).toBe('cancelled_by_operator');
    const audit = await h.executions.transitions(executionId);
    expect(audit.at(-1)).toMatchObject({
      fromStatus: 'running',
      toStatus: 'cancelled',
      actor: 'operator',
      reason: 'cli says stop',
    });
    expect(probePid(pid)).toBe('ESRCH');
  });

  it('reconcile --dry-run reports a live row whose workflow was terminated and changes nothing; reconcile finalizes it in a full sweep; --quick runs a regular cycle', async () => {
    const executionId = `cli-reconcile-${uniqueSuffix()}`;
    await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang', executionId });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('terminated to leave a live row behind');
    const expected = expect.objectContaining({
      executionId,
      workflow: 'TERMINATED',
      action: 'finalized',
      status: 'cancelled',
    });

    const dryRun = await lifeline('reconcile', '--dry-run', '--json');
    expect(dryRun.code).toBe(0);
    const planned = JSON.parse(dryRun.stdout) as ReconcileReport;
    expect(planned).toMatchObject({ dryRun: true, failures: [] });
    expect(planned.liveRowsChecked).toBeGreaterThanOrEqual(1);
    expect(planned.recoveries).toContainEqual(expected);
    expect((await h.executions.get(executionId))?.status).toBe('running');
    expect(probePid(pid)).toBe('alive');

    const applied = await lifeline('reconcile', '--json');
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout) as ReconcileReport;
    expect(report.sweep).toBe('full');
    expect(report.recoveries).toContainEqual(expected);
    expect(await h.executions.get(executionId)).toMatchObject({
      status: 'cancelled',
      errorKind: 'closed_outside_workflow',
    });
    expect((await h.executions.transitions(executionId)).at(-1)).toMatchObject({
      toStatus: 'cancelled',
      actor: 'reconciler',
    });
    expect(probePid(pid)).toBe('ESRCH');

    const quick = await lifeline('reconcile', '--quick');
    expect(quick.code).toBe(0);
    expect(quick.stdout).toMatch(/^anomalies only: checked \d+ live rows and \d+ slot leases, described \d+ workflows/);
  });

  it('schedules: create, describe, list, trigger, pause, unpause and delete', async () => {
    const scheduleId = `cli-sched-${uniqueSuffix()}`;
    const agent = h.agent('demo');
    const created = await lifeline(
      'schedules',
      'create',
      scheduleId,
      '--agent',
      agent,
      '--prompt',
      'succeed 0 scheduled',
      '--interval',
      '3600',
      '--paused',
      '--note',
      'from the cli',
      '--idle-timeout',
      '600',
      '--max-cost-usd',
      '1.5',
    );
    expect(created.code).toBe(0);

    const described = await lifeline('schedules', 'describe', scheduleId, '--json');
    expect(described.code).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({
      scheduleId,
      agent,
      intervalSeconds: 3600,
      paused: true,
      note: 'from the cli',
      taskQueue: h.taskQueue,
      idleTimeoutSeconds: 600,
      maxCostUsd: 1.5,
    });
    await waitUntil(
      async () => {
        const listed = JSON.parse((await lifeline('schedules', 'list', '--json')).stdout) as {
          scheduleId: string;
        }[];
        return listed.some((s) => s.scheduleId === scheduleId);
      },
      { what: `schedules list to show ${scheduleId}`, timeoutMs: 30_000, intervalMs: 500 },
    );

    expect((await lifeline('schedules', 'trigger', scheduleId)).code).toBe(0);
    const fired = await waitUntil(async () => (await h.executions.list({ scheduleId, limit: 10 })).find((r) => r.status === 'succeeded'), {
      what: `the triggered fire of ${scheduleId}`,
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(fired).toMatchObject({ agent, trigger: 'schedule' });
    // Each fire carries the schedule's limits.
    expect(await h.executions.get(fired.id)).toMatchObject({ idleTimeoutSeconds: 600, maxCostUsd: 1.5 });

    expect((await lifeline('schedules', 'unpause', scheduleId)).code).toBe(0);
    expect((await h.client.schedules.describe(scheduleId)).paused).toBe(false);
    expect((await lifeline('schedules', 'pause', scheduleId, '--note', 'paused by the cli')).code).toBe(0);
    expect(await h.client.schedules.describe(scheduleId)).toMatchObject({
      paused: true,
      note: 'paused by the cli',
    });

    expect((await lifeline('schedules', 'delete', scheduleId)).code).toBe(0);
    const gone = await lifeline('schedules', 'describe', scheduleId);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`schedule ${scheduleId} not found`);
  });

  it('executions start --prompt-file reads a prompt beyond the shell argument limit', async () => {
    const file = join(emptyDir, 'prompt.txt');
    // 200 KiB: more than one command-line argument may hold (128 KiB), within Lifeline's 256 KiB.
    writeFileSync(file, `succeed 0 ${'p'.repeat(200 * 1024)}`);
    const started = await lifeline('executions', 'start', '--agent', h.agent('stdin'), '--prompt-file', file, '--wait', '--json');
    expect(started.code, started.stderr).toBe(0);
    const row = JSON.parse(started.stdout) as { execution: { status: string; prompt: string; output: string } };
    expect(row.execution.status).toBe('succeeded');
    expect(row.execution.prompt).toHaveLength(200 * 1024 + 'succeed 0 '.length);
    // The agent got all of it on its standard input, and echoed it.
    expect(row.execution.output).toContain('p'.repeat(1000));
  });

  it('invalid input exits 2 naming the field; a missing execution exits 1', async () => {
    const unknownAgent = await lifeline('executions', 'start', '--agent', 'nope', '--prompt', 'x');
    expect(unknownAgent.code).toBe(2);
    expect(unknownAgent.stderr).toContain('agent: unknown agent "nope"');

    // One of each way input is refused: by the request's validation, by an option's parser, by commander.
    const cases: { args: string[]; names: string }[] = [
      {
        args: ['executions', 'start', '--agent', h.agent('demo'), '--prompt', 'x', '--timeout', '0'],
        names: 'invalid execution: --timeout: ',
      },
      {
        args: ['schedules', 'create', 'no-when', '--agent', h.agent('demo'), '--prompt', 'x'],
        names: 'invalid schedule: --cron: give exactly one of cron or --interval',
      },
      {
        args: [
          'schedules',
          'create',
          'zoned',
          '--agent',
          h.agent('demo'),
          '--prompt',
          'x',
          '--interval',
          '60',
          '--timezone',
          'Europe/Paris',
        ],
        names: '--timezone: applies to a cron expression only',
      },
      { args: ['executions', 'list', '--since', 'yesterday'], names: '--since' },
      { args: ['executions', 'list', '--since', '99999999999999d'], names: 'must be at most 3650d' },
      { args: ['schedules', 'pause', 'any', '--note', 'n'.repeat(5000)], names: 'must be at most 1000 characters (got 5000)' },
      { args: ['executions', 'start', '--agent', h.agent('demo')], names: '--prompt or --prompt-file' },
      {
        args: ['executions', 'start', '--agent', h.agent('demo'), '--prompt-file', '/no/such/file'],
        names: '--prompt-file: cannot read /no/such/file',
      },
      { args: ['executions', 'list', '--status', 'lost'], names: '--status' },
      { args: ['executions', 'stop', 'some-id'], names: '--reason' },
      { args: ['no-such-command'], names: 'no-such-command' },
    ];
    for (const { args, names } of cases) {
      const result = await lifeline(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(names);
    }

    const missing = await lifeline('executions', 'show', 'no-such-execution');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('execution no-such-execution not found');
  });

  it("reads npm start's stack file for unset variables, and says what to do when there is none", async () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'lifeline-stack-'));
    try {
      writeStackFile(stackDir, {
        temporal: {
          address: inject('temporalAddress'),
          namespace: h.namespace,
          taskQueue: h.taskQueue,
          uiUrl: 'http://stack-ui.test:8233',
        },
        databaseUrl: h.databaseUrl,
        redisUrl: h.redisUrl,
        places: [['Agent server', 'http://127.0.0.1:1 (agents: demo)']],
        logFiles: ['/var/log/lifeline.log', '/var/log/temporal.log'],
      });
      const fromStack = isolatedEnvironment({ LIFELINE_DATA_DIR: stackDir });
      // `status`: the banner again, and whether each server answers now.
      const status = await runCli(['status'], fromStack);
      expect(status).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^ {2}Agent server +http:\/\/127\.0\.0\.1:1 \(agents: demo\)$/m),
      });
      expect(status.stdout).toMatch(/^ {2}Logs +\/var\/log\/lifeline\.log\n +\/var\/log\/temporal\.log$/m);
      expect(status.stdout).toContain('Temporal answers; Postgres answers; Redis answers');

      const listed = await runCli(['agents', 'list', '--json'], fromStack);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ name: h.agent('demo') }));

      const executionId = `cli-stack-${uniqueSuffix()}`;
      const started = await runCli(
        ['executions', 'start', '--agent', h.agent('demo'), '--prompt', 'succeed 0', '--id', executionId, '--wait', '--json'],
        fromStack,
      );
      expect(started.code).toBe(0);
      expect(JSON.parse(started.stdout)).toMatchObject({
        execution: { id: executionId, status: 'succeeded' },
        temporalUiUrl: `http://stack-ui.test:8233/namespaces/${h.namespace}/workflows/${executionId}`,
      });
    } finally {
      rmSync(stackDir, { recursive: true, force: true });
    }

    const deadDir = mkdtempSync(join(tmpdir(), 'lifeline-stack-'));
    try {
      // A stack file left behind by a killed `npm start`: its Redis port answers no more.
      const closed = await getPort({ host: '127.0.0.1' });
      writeStackFile(deadDir, { databaseUrl: h.databaseUrl, redisUrl: `redis://:secret@127.0.0.1:${closed}` });
      const stale = await runCli(['status'], isolatedEnvironment({ LIFELINE_DATA_DIR: deadDir }));
      expect(stale.code).toBe(1);
      expect(stale.stdout).toContain('Postgres answers; Redis DOES NOT ANSWER');
      expect(stale.stdout).not.toContain('secret');
    } finally {
      rmSync(deadDir, { recursive: true, force: true });
    }
    // Servers that do not answer: each named with its address and the variable that set it, in one line,
    // the stack file blamed only for the addresses it gave.
    const closed = `127.0.0.1:${await getPort({ host: '127.0.0.1' })}`;
    const stackDir2 = mkdtempSync(join(tmpdir(), 'lifeline-stack-'));
    try {
      writeStackFile(stackDir2, {
        temporal: { address: closed, namespace: 'default', taskQueue: 'lifeline' },
        databaseUrl: `postgres://lifeline:secret@${closed}/lifeline`,
        redisUrl: `redis://:secret@${closed}`,
      });
      const fromEnvironment = await runCli(
        ['executions', 'list'],
        isolatedEnvironment({ LIFELINE_DATA_DIR: stackDir2, DATABASE_URL: `postgres://u:secret@${closed}/db` }),
      );
      expect(fromEnvironment.code).toBe(1);
      expect(fromEnvironment.stderr.trim()).toMatch(
        new RegExp(`^lifeline: cannot connect to Postgres at ${closed}/db \\(DATABASE_URL\\): connect ECONNREFUSED [^\\n]*$`),
      );
      const fromStack = await runCli(['executions', 'list'], isolatedEnvironment({ LIFELINE_DATA_DIR: stackDir2 }));
      expect(fromStack.stderr).toContain(
        `cannot connect to Postgres at ${closed}/lifeline (DATABASE_URL from ${join(stackDir2, 'stack.json')}: is \`npm start\` still running?)`,
      );
      const reconcile = await runCli(
        ['reconcile'],
        isolatedEnvironment({ LIFELINE_DATA_DIR: stackDir2, REDIS_URL: `redis://:secret@${closed}` }),
      );
      expect(reconcile.code).toBe(1);
      expect(reconcile.stdout).toBe('');
      expect(reconcile.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^lifeline: cannot connect to Redis at ${closed} \\(REDIS_URL\\): .*ECONNREFUSED`)),
      ]);
      const temporal = await runCli(
        ['executions', 'start', '--agent', 'a', '--prompt', 'p'],
        isolatedEnvironment({ LIFELINE_DATA_DIR: stackDir2 }),
      );
      expect(temporal.stderr).toContain(`cannot connect to Temporal at ${closed}`);
      expect(temporal.stderr).toContain(`(the address is from ${join(stackDir2, 'stack.json')}: is \`npm start\` still running?)`);
      for (const r of [fromEnvironment, fromStack, reconcile, temporal]) expect(r.stderr).not.toContain('secret');
    } finally {
      rmSync(stackDir2, { recursive: true, force: true });
    }

    const noStack = await runCli(['status'], isolatedEnvironment({ LIFELINE_DATA_DIR: emptyDir }));
    expect(noStack.code).toBe(2);
    expect(noStack.stderr).toContain('no local Lifeline is running here');

    const nothing = await runCli(['agents', 'list'], isolatedEnvironment({ LIFELINE_DATA_DIR: emptyDir }));
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('DATABASE_URL');
    expect(nothing.stderr).toContain('npm start');
  });

  it('setup registers the search attributes a namespace lacks, and only those', async () => {
    const namespace = `cli-setup-${uniqueSuffix()}`;
    const { workflowService, operatorService } = h.temporal.connection;
    await workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await waitUntil(async () => workflowService.describeNamespace({ namespace }), {
      what: `namespace ${namespace}`,
      timeoutMs: 30_000,
    });
    const setupEnv = { ...env, LIFELINE_TEMPORAL_NAMESPACE: namespace };

    const first = await runCli(['setup', '--json'], setupEnv);
    expect(first.code, first.stderr).toBe(0);
    const names = ['LifelineAgent', 'LifelinePhase', 'LifelineSchedule', 'LifelineStatus', 'LifelineTenant', 'LifelineTrigger'];
    const added = JSON.parse(first.stdout) as {
      migrations: string[];
      searchAttributes: { added: string[]; alreadyPresent: string[] };
    };
    expect(added.migrations).toEqual([]);
    expect(added.searchAttributes.added.sort()).toEqual(names);
    const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(names));

    const again = await runCli(['setup', '--json'], setupEnv);
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as typeof added;
    expect(second.searchAttributes.added).toEqual([]);
    expect(second.searchAttributes.alreadyPresent.sort()).toEqual(names);
  });
});
