const startedAt = Date.now();

/** A progress line on stderr, so stdout keeps only the results table. */
export function progress(message: string): void {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds} s] ${message}\n`);
}
