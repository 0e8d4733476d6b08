/**
 * The bench's output: markdown written to the console as it goes (readable there too) and, at
 * the end, into BENCHMARKS.md between markers, so the hand-written analysis around them stays.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BENCHMARKS_MD = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

/** Collects the output while printing it. */
export class Output {
  readonly lines: string[] = [];

  /** A line of results (stdout, and into BENCHMARKS.md). */
  line(text = ''): void {
    console.log(text);
    this.lines.push(text);
  }

  /** A markdown table. */
  table(header: string[], rows: string[][]): void {
    this.line(`| ${header.join(' | ')} |`);
    this.line(`|${header.map(() => '---').join('|')}|`);
    for (const r of rows) this.line(`| ${r.join(' | ')} |`);
    this.line();
  }
}

/** Progress (stderr only: not a result). */
export function progress(text: string): void {
  console.error(`· ${text}`);
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(`${ROOT}/node_modules/${name}/package.json`, 'utf8')) as { version?: string };
    return pkg.version ?? '?';
  } catch {
    return '?';
  }
}

/** Machine, versions and date, for the header. */
export function environment(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const cli = ensureTemporalCli();
  const version = spawnSync(cli, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: `${model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    'load average at start': load,
    node: process.version,
    'Temporal CLI': version.replace(/^temporal version /, ''),
    SDK: `@temporalio/* ${packageVersion('@temporalio/worker')}, @anthropic-ai/sdk ${packageVersion('@anthropic-ai/sdk')}`,
  };
}

const SKELETON = `# Benchmarks

<!-- bench:full:begin -->
<!-- bench:full:end -->

<!-- bench:quick:begin -->
<!-- bench:quick:end -->
`;

/** Replace the `mode` region of BENCHMARKS.md with `body` (creating the file if needed). */
export function writeRegion(mode: string, body: string): void {
  let doc = existsSync(BENCHMARKS_MD) ? readFileSync(BENCHMARKS_MD, 'utf8') : SKELETON;
  const begin = `<!-- bench:${mode}:begin -->`;
  const end = `<!-- bench:${mode}:end -->`;
  if (!doc.includes(begin) || !doc.includes(end)) doc = `${doc.trimEnd()}\n\n${begin}\n${end}\n`;
  const before = doc.slice(0, doc.indexOf(begin) + begin.length);
  const after = doc.slice(doc.indexOf(end));
  writeFileSync(BENCHMARKS_MD, `${before}\n${body.trim()}\n${after}`);
}
