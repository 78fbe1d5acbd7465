/**
 * What `npm start` prints once everything is up, and `lifeline status` again: where each part
 * listens, where its log is, and where the URLs with passwords are (only there, never on screen).
 */
export function stackBanner(stack: { places: [string, string][]; logFiles: string[]; stackFile: string }): string[] {
  const width = Math.max(...stack.places.map(([name]) => name.length), 'Logs'.length);
  return [
    ...stack.places.map(([name, where]) => `  ${name.padEnd(width)}  ${where}`),
    `  ${'Logs'.padEnd(width)}  ${stack.logFiles[0] ?? '-'}`,
    ...stack.logFiles.slice(1).map((file) => `  ${''.padEnd(width)}  ${file}`),
    `  ${'CLI'.padEnd(width)}  npm run -s lifeline -- --help (reads ${stack.stackFile}, which holds the URLs with their passwords)`,
  ];
}
