import { once } from 'node:events';
import { writeSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { setTimeout as delay } from 'node:timers/promises';
import { demoOutputTokensCosting, demoTokens, demoUsage, parseDemoPrompt, type DemoBehaviour } from './demo-behaviour.js';
import { usageLinePrefix } from './usage-lines.js';

/**
 * The demo agent's command: `node --import tsx src/agent-server/demo-command.ts <prompt>`.
 * It stands in for a real agent CLI, producing each way a run can end (see demo-behaviour.ts), and
 * reports made-up usage the way any command run by the reference agent server can (usage-lines.ts, its usage channel):
 * tokens from the prompt's and the output's sizes, at fixed prices.
 */

const mebibyte = 1024 * 1024;
const executionId = process.env.LIFELINE_EXECUTION_ID ?? '(none)';

let inputTokens = 0;
let outputBytes = 0;

function say(line: string, stream: NodeJS.WriteStream = process.stdout): void {
  outputBytes += Buffer.byteLength(line) + 1;
  stream.write(`${line}\n`);
}

/** Run by the reference agent server, the usage channel is open on the descriptor it names; run by hand, there is none. */
const usageChannel = Number(process.env.LIFELINE_USAGE_FD);

function reportUsage(outputTokens = demoTokens(outputBytes)): void {
  if (!Number.isInteger(usageChannel)) return;
  writeSync(usageChannel, `${usageLinePrefix}${JSON.stringify(demoUsage(inputTokens, outputTokens))}\n`);
}

async function run(behaviour: DemoBehaviour): Promise<void> {
  switch (behaviour.kind) {
    case 'succeed':
      say(`demo agent: execution ${executionId} working for ${behaviour.seconds} s`);
      if (behaviour.text) say(behaviour.text);
      reportUsage();
      await delay(behaviour.seconds * 1000);
      say('demo agent: done');
      return reportUsage();
    case 'progress':
      for (let second = 1; second <= behaviour.seconds; second++) {
        await delay(1000);
        say(`demo agent: execution ${executionId} still working (${second}/${behaviour.seconds} s)`);
      }
      return reportUsage();
    case 'spend':
      say(`demo agent: execution ${executionId} spending ${behaviour.usd} USD, then hanging until signalled`);
      reportUsage(demoOutputTokensCosting(behaviour.usd));
      process.on('SIGTERM', () => process.exit(143));
      return waitForever();
    case 'charge':
      say(`demo agent: execution ${executionId} done, at a cost of ${behaviour.usd} USD`);
      return reportUsage(demoOutputTokensCosting(behaviour.usd));
    case 'fail':
      say(`demo agent: execution ${executionId} failing with exit code ${behaviour.code}`, process.stderr);
      reportUsage();
      process.exitCode = behaviour.code;
      return;
    case 'hang':
      // 143 = 128 + SIGTERM, what a shell reports for a process ended by SIGTERM.
      process.on('SIGTERM', () => process.exit(143));
      say(`demo agent: execution ${executionId} hanging until signalled`);
      return waitForever();
    case 'ignore-term':
      process.on('SIGTERM', () => say('demo agent: ignoring SIGTERM'));
      say(`demo agent: execution ${executionId} ignoring SIGTERM; only SIGKILL ends it`);
      return waitForever();
    case 'big-output':
      // Exactly that many bytes and no usage line: tests check the size to the byte.
      return writeBigOutput(behaviour.megabytes);
    case 'crash':
      say(`demo agent: execution ${executionId} crashing`, process.stderr);
      // SIGKILL rather than abort(): an abnormal end like an OOM kill, without leaving a core file behind.
      process.kill(process.pid, 'SIGKILL');
      return;
  }
}

async function writeBigOutput(megabytes: number): Promise<void> {
  const line = 'demo agent: big output '.padEnd(1023, '.') + '\n';
  const chunk = Buffer.from(line.repeat(64));
  let remaining = Math.round(megabytes * mebibyte);
  while (remaining > 0) {
    const piece = remaining >= chunk.length ? chunk : chunk.subarray(0, remaining);
    remaining -= piece.length;
    if (!process.stdout.write(piece)) await once(process.stdout, 'drain');
  }
}

function waitForever(): Promise<never> {
  // An interval keeps the event loop alive; a bare pending promise would let node exit.
  setInterval(() => {}, 60_000);
  return new Promise<never>(() => {});
}

// The prompt is the last argument (after the server's `--`), or standard input for an agent configured with "promptVia": "stdin".
const args = process.argv.slice(2);
const prompt = args.length > 0 ? (args[0] === '--' ? args.slice(1) : args).join(' ') : await text(process.stdin);
inputTokens = demoTokens(Buffer.byteLength(prompt));
await run(parseDemoPrompt(prompt));
