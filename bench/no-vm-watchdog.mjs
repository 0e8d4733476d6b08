/**
 * A bench-only experiment, never for production: `node --import ./bench/no-vm-watchdog.mjs`
 * (plain JS: worker threads load it before any TypeScript loader) drops the `timeout` option from `vm` calls in this process and its worker threads (which inherit
 * the flags). The Temporal TypeScript SDK passes `timeout: isolateExecutionTimeout` on every call
 * into the workflow sandbox, and Node starts a watchdog thread for each such call (~80 µs here,
 * vs ~1.5 µs without; see BENCHMARKS.md), so this measures what those watchdogs cost per turn. It
 * also disables the SDK's detection of workflow code that never yields.
 */
import vm from 'node:vm';

/** @param {import('node:vm').RunningScriptOptions | undefined} opts */
const strip = (opts) => {
  if (!opts || typeof opts !== 'object' || opts.timeout === undefined) return opts;
  const { timeout: _timeout, ...rest } = opts;
  return rest;
};
const runInContext = vm.Script.prototype.runInContext;
vm.Script.prototype.runInContext = function (context, opts) {
  return runInContext.call(this, context, strip(opts));
};
