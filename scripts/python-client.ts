/**
 * A Python with the official Temporal Python SDK (PyPI `temporalio`, pinned) in the project's
 * `.tools/python/` virtual environment, for the Python client example and its test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `temporalio` version the example is tested with. */
export const PINNED_TEMPORALIO = '1.35.0';

const VENV = fileURLToPath(new URL('../.tools/python/', import.meta.url));
const PYTHON = join(VENV, 'bin', 'python');

function hasSdk(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import importlib.metadata as m; print(m.version("temporalio"))'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === PINNED_TEMPORALIO;
}

/** Path of a Python that has `temporalio`; creates the virtual environment when needed. */
export function ensurePythonClient(log: (line: string) => void = () => {}): string {
  if (existsSync(PYTHON) && hasSdk()) return PYTHON;
  log(`installing temporalio==${PINNED_TEMPORALIO} from PyPI into .tools/python/ …`);
  const venv = spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8', timeout: 120_000 });
  if (venv.status !== 0) {
    throw new Error(
      `cannot create a Python virtual environment (${(venv.error?.message ?? venv.stderr).trim().split('\n').pop()}): install Python 3 with venv`,
    );
  }
  const pip = spawnSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `temporalio==${PINNED_TEMPORALIO}`], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (pip.status !== 0 || !hasSdk())
    throw new Error(`cannot install temporalio==${PINNED_TEMPORALIO}: ${(pip.stderr ?? '').trim().split('\n').pop()}`);
  return PYTHON;
}
