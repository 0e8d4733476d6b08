/**
 * Finds Temporal's time-skipping test server for the `unit` test project, building a launcher
 * into the project when there is none: the Java test server (`io.temporal:temporal-test-server`,
 * from Maven Central via `mvn`), started by `scripts/test-server/LoopbackTestServer.java` so it
 * listens on 127.0.0.1 only. No Temporal CLI and no download from outside the registries.
 *
 * Order: TEMPORAL_TEST_SERVER_PATH → the project's own launcher in `.tools/` → build it (needs
 * `java` and `mvn`; a clear line says so when they are missing).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIR = join(PROJECT_ROOT, 'scripts', 'test-server');
const TOOLS_DIR = join(PROJECT_ROOT, '.tools', 'temporal-test-server');
const LAUNCHER = join(TOOLS_DIR, 'temporal-test-server');

function run(cmd: string, args: string[], cwd?: string): { ok: boolean; why: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000 });
  const why = (r.error?.message ?? `${r.stderr ?? ''}${r.stdout ?? ''}`).trim().split('\n').slice(-3).join(' | ');
  return { ok: r.status === 0, why };
}

/** Path of a launcher that starts the test server as `<launcher> <port>`; builds it if needed. */
export function ensureTestServer(log: (line: string) => void = () => {}): string {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} does not exist: fix the path or unset it`);
  }
  if (existsSync(LAUNCHER)) return LAUNCHER;
  for (const tool of ['java', 'javac', 'mvn']) {
    if (!run(tool, ['-version']).ok) {
      throw new Error(
        `the unit tests need the Temporal test server, built with Java and Maven: \`${tool}\` is missing ` +
          '(Debian: apt-get install default-jdk maven), or set TEMPORAL_TEST_SERVER_PATH to a test server launcher',
      );
    }
  }
  const started = Date.now();
  log('Temporal test server not found: fetching io.temporal:temporal-test-server from Maven Central into .tools/ …');
  mkdirSync(TOOLS_DIR, { recursive: true });
  const lib = join(TOOLS_DIR, 'lib');
  const fetched = run('mvn', ['-q', '-B', '-f', join(SOURCE_DIR, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`]);
  if (!fetched.ok) throw new Error(`could not fetch the Temporal test server with Maven: ${fetched.why}`);
  const classes = join(TOOLS_DIR, 'classes');
  const compiled = run('javac', ['-d', classes, '-cp', `${lib}/*`, join(SOURCE_DIR, 'LoopbackTestServer.java')]);
  if (!compiled.ok) throw new Error(`could not compile the test server launcher: ${compiled.why}`);
  writeFileSync(LAUNCHER, `#!/bin/sh\nexec java -Xss1m -XX:+UseSerialGC -cp "${classes}:${lib}/*" LoopbackTestServer "$@"\n`);
  chmodSync(LAUNCHER, 0o755);
  log(`Temporal test server ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${readdirSync(lib).length} jars)`);
  return LAUNCHER;
}

// `tsx scripts/test-server.ts` prints the path (used by people and CI).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureTestServer((l) => console.error(l)));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
}
