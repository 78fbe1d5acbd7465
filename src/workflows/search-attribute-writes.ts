import type { SearchAttributePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';

/**
 * The execution's search attribute changes. Every upsert is a history event and a visibility write
 * on the server: gathered, the changes made between two waits go out as one upsert, written just
 * before the workflow waits (`flush`), so operators see where it waits. Executions started before
 * gathering write each change as it is made, which is what their replay expects.
 */
export function searchAttributeWrites(gathered: boolean) {
  const pending = new Map<string, SearchAttributePair>();
  return {
    set(pair: SearchAttributePair): void {
      if (gathered) pending.set(pair.key.name, pair);
      else upsertSearchAttributes([pair]);
    },
    flush(): void {
      if (pending.size === 0) return;
      upsertSearchAttributes([...pending.values()]);
      pending.clear();
    },
  };
}
