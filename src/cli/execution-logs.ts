import { setTimeout as delay } from 'node:timers/promises';
import { ExecutionNotFoundError } from '../client/client-errors.js';
import { isTerminal } from '../domain/execution-status.js';
import type { ExecutionReader, ExecutionRow } from '../store/execution-reader.js';
import { visible } from './visible-text.js';

/** How often `logs --follow` reads the row: the run activity copies the output at most every 5 s. */
const followIntervalMs = 1000;

type OutputRow = Pick<ExecutionRow, 'status' | 'output' | 'outputBytes' | 'outputTruncated'>;

/**
 * What of a row's output comes after byte `printed` of the whole output, and where the whole output
 * ends now. While the execution runs, the row holds the last bytes of its output so far (ending at
 * `outputBytes`); once it ended, its output from the start, capped.
 */
export function outputAfter(row: OutputRow, printed: number): { chunk: Buffer; printed: number } {
  if (row.output === null) return { chunk: Buffer.alloc(0), printed };
  const text = Buffer.from(row.output, 'utf8');
  const total = row.outputBytes ?? text.length;
  if (total <= printed) return { chunk: Buffer.alloc(0), printed };
  const note = (line: string) => Buffer.from(`[lifeline: ${line}]\n`);
  if (!isTerminal(row.status)) {
    const tailStart = total - text.length;
    const chunk =
      printed >= tailStart
        ? text.subarray(printed - tailStart)
        : Buffer.concat([...(printed > 0 || tailStart > 0 ? [note(`${tailStart - printed} bytes not shown`)] : []), text]);
    return { chunk, printed: total };
  }
  if (printed === 0) return { chunk: text, printed: total };
  if (row.outputTruncated)
    return { chunk: note('the rest of the output was not kept; `lifeline executions show` has what was'), printed: total };
  return { chunk: text.subarray(printed), printed: total };
}

/**
 * Prints an execution's output as its row holds it; with `follow`, then new output as it comes
 * (read from Postgres, never from the agent) until the execution ends. Unless `raw`, what a
 * terminal would act on is shown instead (visible-text.ts).
 */
export async function printExecutionLogs(
  store: Pick<ExecutionReader, 'get'>,
  executionId: string,
  { follow, raw }: { follow: boolean; raw: boolean },
): Promise<void> {
  let printed = 0;
  for (;;) {
    const row = await store.get(executionId);
    if (!row) throw new ExecutionNotFoundError(`execution ${executionId} not found`);
    const next = outputAfter(row, printed);
    // A chunk starts and ends on a character: the row's output and its tail do.
    if (next.chunk.length > 0) process.stdout.write(raw ? next.chunk : visible(next.chunk.toString('utf8')));
    printed = next.printed;
    if (!follow) return;
    if (isTerminal(row.status)) return console.error(`[lifeline: execution ${executionId} ended ${row.status}]`);
    await delay(followIntervalMs);
  }
}
