import { writeFileSync } from 'node:fs';
import proto from '@temporalio/proto';
import { withCliContext } from '../../src/cli/cli-context.js';

/**
 * `npm run save-history -- <workflowId> <file.binpb>`: writes a closed execution's history as
 * binary protobuf, the form test/replay.test.ts replays (test/fixtures/histories/<build>/). Run it
 * against a stack running the workflow code to keep (`npm start`, or any configured Temporal).
 */
const [workflowId, file] = process.argv.slice(2);
if (!workflowId || !file) {
  console.error('usage: npm run save-history -- <workflowId> <file.binpb>');
  process.exit(2);
}
try {
  await withCliContext(async (ctx) => {
    const history = await (await ctx.temporal()).workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(file, proto.temporal.api.history.v1.History.encode(history).finish());
    console.log(`${file}: ${history.events?.length ?? 0} events of ${workflowId}`);
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
