/**
 * Children that must not outlive this process, however it ends. `process.on('exit')` runs on a
 * normal exit or an uncaught exception, but not on SIGKILL, a fatal V8 error (heap out of memory)
 * or an unhandled signal; then a dev server would be left holding its ports and database.
 *
 * So each such child gets a guard: a tiny `sh` whose stdin is a pipe from this process. The
 * kernel closes that pipe when this process ends for any reason; the guard reads end-of-file and
 * stops the child (SIGTERM, then SIGKILL after 5 s). The guard ignores SIGINT/SIGHUP (Ctrl-C is
 * ours to handle) and is SIGKILLed as soon as the child exits, so it never signals a reused pid.
 * (Linux's PR_SET_PDEATHSIG would do it too, but Node cannot set it and macOS has none.)
 */
import { spawn, type ChildProcess } from 'node:child_process';

const GUARD = [
  "trap '' INT HUP TERM",
  'read -r _',
  'kill -TERM "$1" 2>/dev/null || exit 0',
  'i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
  'kill -KILL "$1" 2>/dev/null',
].join('\n');

/** Make `child` end when this process ends, whatever the way. Returns the guard process. */
export function endWithThisProcess(child: ChildProcess): ChildProcess | undefined {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return undefined;
  // Own process group: a Ctrl-C in the terminal reaches the child and us, not the guard.
  const guard = spawn('sh', ['-c', GUARD, 'guard', String(child.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  guard.on('error', () => undefined); // no sh: the process.on('exit') handlers remain
  guard.unref();
  guard.stdin?.on('error', () => undefined);
  // The pipe must not keep this process alive; it only has to exist as long as we do.
  (guard.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.once('exit', () => guard.kill('SIGKILL'));
  return guard;
}
