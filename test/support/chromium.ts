import { isExecutable } from '../../src/stack/find-executable.js';
import { ensureDebianPackages } from '../../src/stack/debian-packages.js';
import { createLogger } from '../../src/util/logger.js';

/** Debian's Chromium, the browser the UI tests drive; playwright-core never downloads one of its own. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Switches for a headless Chromium run as root on a build machine: no sandbox (root), no GPU, and
 * none of the background traffic (updates, sync, QUIC probes) a fresh profile would start.
 * Headless mode and the profile directory are set by playwright's launch.
 */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Installs Debian's `chromium` package when /usr/bin/chromium is missing (as root; else says what to run). */
export async function ensureChromium(): Promise<string> {
  await ensureDebianPackages({
    what: 'Chromium (for the Temporal UI test)',
    packages: ['chromium'],
    present: () => isExecutable(chromiumPath),
    log: createLogger('chromium', process.env.LIFELINE_LOG_LEVEL ?? 'warn'),
  });
  return chromiumPath;
}
