import { once } from 'node:events';
import { text } from 'node:stream/consumers';
import { setTimeout as delay } from 'node:timers/promises';
import { parseDemoPrompt, type DemoBehaviour } from './demo-behaviour.js';

/**
 * The demo agent's command: `node --import tsx src/agent-server/demo-command.ts <prompt>`.
 * It stands in for a real agent CLI, producing each way a run can end (see demo-behaviour.ts).
 */

const mebibyte = 1024 * 1024;
const executionId = process.env.LIFELINE_EXECUTION_ID ?? '(none)';

async function run(behaviour: DemoBehaviour): Promise<void> {
  switch (behaviour.kind) {
    case 'succeed':
      console.log(`demo agent: execution ${executionId} working for ${behaviour.seconds} s`);
      if (behaviour.text) console.log(behaviour.text);
      await delay(behaviour.seconds * 1000);
      console.log('demo agent: done');
      return;
    case 'progress':
      for (let second = 1; second <= behaviour.seconds; second++) {
        await delay(1000);
        console.log(`demo agent: execution ${executionId} still working (${second}/${behaviour.seconds} s)`);
      }
      return;
    case 'fail':
      console.error(`demo agent: execution ${executionId} failing with exit code ${behaviour.code}`);
      process.exitCode = behaviour.code;
      return;
    case 'hang':
      // 143 = 128 + SIGTERM, what a shell reports for a process ended by SIGTERM.
      process.on('SIGTERM', () => process.exit(143));
      console.log(`demo agent: execution ${executionId} hanging until signalled`);
      return waitForever();
    case 'ignore-term':
      process.on('SIGTERM', () => console.log('demo agent: ignoring SIGTERM'));
      console.log(`demo agent: execution ${executionId} ignoring SIGTERM; only SIGKILL ends it`);
      return waitForever();
    case 'big-output':
      return writeBigOutput(behaviour.megabytes);
    case 'crash':
      console.error(`demo agent: execution ${executionId} crashing`);
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

// The prompt is the last argument, or standard input for an agent configured with "promptVia": "stdin".
const prompt = process.argv.length > 2 ? process.argv.slice(2).join(' ') : await text(process.stdin);
await run(parseDemoPrompt(prompt));
