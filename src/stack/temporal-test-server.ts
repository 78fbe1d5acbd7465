import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import { lifelineCacheDir } from './cache-dir.js';
import { ensureDebianPackages } from './debian-packages.js';
import { findOnPath } from './find-executable.js';
import { runCommand } from './run-command.js';

/** Temporal's Java test server, the one that skips time; pinned so every machine tests against the same one. */
export const TEMPORAL_TEST_SERVER_VERSION = '1.31.0';

const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lifeline</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

/**
 * The path of an executable that starts Temporal's time-skipping test server (`<path> <port>`, as
 * TestWorkflowEnvironment.createTimeSkipping runs it). The server and its dependencies come from
 * Maven Central with Maven into `~/.cache/lifeline/temporal-test-server/<version>` (seconds, once);
 * Java and Maven are installed from Debian when missing.
 */
export async function ensureTemporalTestServer(log: Logger): Promise<string> {
  const dir = lifelineCacheDir('temporal-test-server', TEMPORAL_TEST_SERVER_VERSION);
  const wrapper = join(dir, 'temporal-test-server');
  if (existsSync(wrapper) && classpathPresent(join(dir, 'classpath.txt'))) return wrapper;
  await ensureDebianPackages({
    what: 'Java and Maven (for the time-skipping test server)',
    packages: ['openjdk-17-jre-headless', 'maven'],
    present: () => findOnPath('java') !== undefined && findOnPath('mvn') !== undefined,
    log,
  });
  mkdirSync(dir, { recursive: true });
  // Resolve in a scratch dir and move into place: an interrupted run never leaves a wrapper without its jars.
  const scratch = mkdtempSync(join(dir, '.resolve-'));
  const started = Date.now();
  log.info(`fetching Temporal's test server ${TEMPORAL_TEST_SERVER_VERSION} from Maven Central into ${dir}`);
  try {
    writeFileSync(join(scratch, 'pom.xml'), pom);
    const classpathFile = join(scratch, 'classpath.txt');
    await runCommand(
      'mvn',
      [
        '-q',
        '-B',
        `-Dmaven.repo.local=${lifelineCacheDir('maven-repository')}`,
        'dependency:build-classpath',
        `-Dmdep.outputFile=${classpathFile}`,
      ],
      { cwd: scratch },
    );
    if (!classpathPresent(classpathFile)) throw new Error(`Maven resolved no usable classpath into ${classpathFile}`);
    const script = join(scratch, 'temporal-test-server');
    writeFileSync(script, `#!/bin/sh\nexec java -cp "$(cat '${join(dir, 'classpath.txt')}')" io.temporal.testserver.TestServer "$@"\n`);
    chmodSync(script, 0o755);
    renameSync(classpathFile, join(dir, 'classpath.txt'));
    renameSync(script, wrapper);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  log.info(`fetched the test server in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return wrapper;
}

/** Every jar it lists still exists (a cleaned Maven repository means fetching again). */
function classpathPresent(file: string): boolean {
  if (!existsSync(file)) return false;
  const jars = readFileSync(file, 'utf8').trim().split(':').filter(Boolean);
  return jars.length > 0 && jars.every((jar) => existsSync(jar));
}
