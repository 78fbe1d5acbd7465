import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createAgentClient } from '../../src/agent/agent-client.js';
import { defaultMaxResponseBytes } from '../../src/config/config.js';

/**
 * `npm run bench:hostile-agent`: a worker's memory while agents answer every read with an endless
 * body. The agents are a child process (so only the client's memory is measured here); `runs`
 * reads go on at once, each cut off at the response limit, again and again for `seconds`.
 */
const runs = Number(process.env.RUNS ?? 20);
const seconds = Number(process.env.SECONDS ?? 20);
const MiB = 1024 * 1024;

if (process.argv.includes('--help')) {
  console.log('usage: npm run bench:hostile-agent  (RUNS=20 concurrent reads, SECONDS=20 of them)');
  process.exit(0);
}

const agentSource = `
const http = require('node:http');
const chunk = 'x'.repeat(64 * 1024);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"id":"e1","status":"succeeded","startedAt":"x","output":"');
  const pump = () => { while (!res.destroyed && res.write(chunk)); if (!res.destroyed) res.once('drain', pump); };
  pump();
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
const agent = spawn(process.execPath, ['-e', agentSource], { stdio: ['ignore', 'pipe', 'inherit'] });
const [portLine] = (await once(agent.stdout, 'data')) as [Buffer];
const client = createAgentClient({ baseUrl: `http://127.0.0.1:${portLine.toString().trim()}`, token: 't', requestTimeoutMs: 60_000 });

const rssMiB = () => process.memoryUsage().rss / MiB;
const before = rssMiB();
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 50);
const deadline = Date.now() + seconds * 1000;
let reads = 0;
let cutOff = 0;
await Promise.all(
  Array.from({ length: runs }, async () => {
    while (Date.now() < deadline) {
      reads++;
      const err = await client.get('e1').catch((e: unknown) => e);
      if (err instanceof Error && /response larger than/.test(err.message)) cutOff++;
    }
  }),
);
clearInterval(sampler);
agent.kill();
console.log(`response limit                ${defaultMaxResponseBytes / MiB} MiB (LIFELINE_AGENT_MAX_RESPONSE_BYTES)`);
console.log(`concurrent endless reads      ${runs} for ${seconds} s: ${reads} reads, ${cutOff} cut off at the limit`);
console.log(`worker RSS before             ${before.toFixed(0)} MiB`);
console.log(`worker RSS peak               ${peak.toFixed(0)} MiB (${((peak - before) / runs).toFixed(1)} MiB per concurrent read)`);
console.log(`worker RSS after              ${rssMiB().toFixed(0)} MiB`);
