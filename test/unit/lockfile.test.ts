/**
 * package-lock.json is what `npm ci` (CI, the Dockerfile) installs, and `npm ci` refuses a lock that
 * disagrees with package.json. These checks read the two files only (no network): the lock's root
 * entry repeats package.json's dependency ranges, every direct dependency is locked at a version
 * its range allows, and every optional dependency of a locked package is locked too — other
 * platforms' native packages included (@esbuild/darwin-arm64, @rollup/rollup-linux-x64-musl, …), or
 * `npm ci` fails on those platforms.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
interface LockEntry extends Manifest {
  optional?: boolean;
  dev?: boolean;
  os?: string[];
  cpu?: string[];
}
interface Lock {
  name: string;
  version: string;
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as Manifest;
const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, 'utf8')) as Lock;
const KINDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

/**
 * Where Node would find `name` from the package at `from` (a lock key such as
 * `node_modules/a/node_modules/b`): its own node_modules, then each ancestor's, then the root's.
 */
function resolveInLock(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[key]) return key;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/** True when `version` satisfies `range` for the ranges package.json uses (exact, ^, ~). */
function satisfies(version: string, range: string): boolean {
  const parse = (v: string) => v.split('.').map(Number);
  const m = /^([\^~]?)(\d+\.\d+\.\d+)$/.exec(range.trim());
  if (!m) throw new Error(`package.json range ${range} is not exact, ^ or ~: teach this test to read it`);
  const [op, base] = [m[1], m[2]!];
  if (!op) return version === base;
  const [a, b, c] = parse(version);
  const [x, y, z] = parse(base);
  const atLeast = a! > x! || (a === x && (b! > y! || (b === y && c! >= z!)));
  if (!atLeast) return false;
  if (op === '~') return a === x && b === y;
  return x! > 0 ? a === x : y! > 0 ? a === 0 && b === y : a === 0 && b === 0 && c === z;
}

describe('package-lock.json', () => {
  it('is a lockfile v3 of this package whose root entry repeats package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    expect([lock.name, lock.version]).toEqual([pkg.name, pkg.version]);
    const root = lock.packages[''];
    expect(root, 'the lock has no root entry ("packages"."")').toBeDefined();
    for (const kind of KINDS) expect(root?.[kind] ?? {}, `${kind} in the lock's root entry`).toEqual(pkg[kind] ?? {});
  });

  it('locks every direct dependency at a version its range allows', () => {
    const wrong: string[] = [];
    for (const kind of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
      for (const [name, range] of Object.entries(pkg[kind] ?? {})) {
        const entry = lock.packages[`node_modules/${name}`];
        if (!entry?.version) wrong.push(`${name}: not in the lock`);
        else if (!satisfies(entry.version, range)) wrong.push(`${name}: locked ${entry.version}, package.json wants ${range}`);
      }
    }
    expect(wrong, 'run `npm install` and commit package-lock.json').toEqual([]);
  });

  it("locks every locked package's dependencies, other platforms' optional packages included", () => {
    const missing: string[] = [];
    let platformPackages = 0;
    for (const [key, entry] of Object.entries(lock.packages)) {
      for (const kind of ['dependencies', 'optionalDependencies'] as const) {
        for (const name of Object.keys(entry[kind] ?? {})) {
          const found = resolveInLock(key, name);
          if (!found) missing.push(`${key || '(root)'} → ${name} (${kind})`);
          else if (lock.packages[found]!.os || lock.packages[found]!.cpu) platformPackages++;
        }
      }
    }
    expect(missing, 'regenerate the lock with `npm install` on a clean tree (without --os/--cpu filters)').toEqual([]);
    // esbuild, rollup and swc alone ship ~50 per-platform packages: a lock made for one platform has a handful.
    expect(platformPackages).toBeGreaterThan(40);
    for (const key of [
      'node_modules/@esbuild/darwin-arm64',
      'node_modules/@esbuild/linux-x64',
      'node_modules/@rollup/rollup-linux-x64-musl',
    ])
      expect(lock.packages[key]?.optional, key).toBe(true);
  });

  it('reads ranges the way npm does for the forms package.json uses', () => {
    expect([satisfies('1.24.0', '1.24.0'), satisfies('1.24.1', '1.24.0')]).toEqual([true, false]);
    expect([satisfies('1.30.9', '^1.24.0'), satisfies('2.0.0', '^1.24.0'), satisfies('1.23.9', '^1.24.0')]).toEqual([true, false, false]);
    expect([satisfies('0.57.9', '^0.57.2'), satisfies('0.58.0', '^0.57.2')]).toEqual([true, false]);
    expect([satisfies('1.30.4', '~1.30.1'), satisfies('1.31.0', '~1.30.1')]).toEqual([true, false]);
  });
});
