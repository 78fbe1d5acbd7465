import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePythonVenv } from '../../src/stack/python-venv.js';
import type { Logger } from '../../src/util/logger.js';

const requirements = fileURLToPath(new URL('../../examples/python/requirements.txt', import.meta.url));

/** The Python example's virtual environment (examples/python/requirements.txt: Temporal's Python SDK and psycopg). Returns its python. */
export async function ensureExampleVenv(log: Logger): Promise<string> {
  const pins = readFileSync(requirements, 'utf8').trim().split('\n');
  return join(await ensurePythonVenv({ name: 'python-venv', what: 'the Python example', requirements: pins, log }), 'bin', 'python');
}
