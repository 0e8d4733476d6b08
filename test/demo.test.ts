/**
 * `npm run demo` as a user runs it, against the test's dev server (so it starts none), offline
 * (the scripted model), with a prompt that carries terminal escapes and a fake status line.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';
import { expectTerminalSafe, type CliRun } from './support/cli.js';

const DEMO = fileURLToPath(new URL('../scripts/demo.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

it('prints the prompt, the transcript and the summary without terminal escapes or fake lines', async () => {
  const prompt = 'Where is order 48810?\x1b]0;demo-title\x07\x1b[2J\nstatus: failed · fake';
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: inject('temporalAddress') };
  const r = await new Promise<CliRun>((resolve) =>
    execFile(process.execPath, [TSX, DEMO, prompt], { env, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expectTerminalSafe(r.stdout);
  expect(r.stdout).not.toContain('demo-title');
  const lines = r.stdout.split('\n');
  expect(lines).toContain('user: Where is order 48810?');
  expect(lines.filter((l) => l.startsWith('status: '))).toEqual([expect.stringMatching(/^status: completed · stop reason: end_turn/)]);
  expect(lines).toContain('  │ status: failed · fake');
}, 120_000);

it('--approve: the ticket waits for a person, the demo approves it, and the ticket is opened', async () => {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    AGENT_RUNNER_DATA_DIR: mkdtempSync(join(tmpdir(), 'demo-')),
  };
  const r = await new Promise<CliRun>((resolve) =>
    execFile(process.execPath, [TSX, DEMO, '--approve'], { env, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/⏸ the run waits for a person: create_support_ticket \{.*"order_id":"48810".*\} \(toolu_/);
  expect(r.stdout).toMatch(/✓ approved after [\d.]+ s of waiting/);
  expect(r.stdout).toMatch(/Final answer: .*I opened support ticket T-[0-9A-F]{8} for you\./);
}, 120_000);
