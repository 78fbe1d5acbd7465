/**
 * Runs `task` for every item, at most `limit` at a time, and resolves when all are done. A task
 * that throws rejects the whole call at once (the others run on): tasks that must not stop their
 * siblings catch their own errors.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, lane));
}
