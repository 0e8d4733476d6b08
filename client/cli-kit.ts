/**
 * The pieces every `agent-runner` command is made of: its description ({@link Command}), the
 * options it takes, the error for bad usage (exit 2), and where it writes.
 */
import type { AgentRunner } from './runner.js';

/** Bad usage or bad input: exit 2, nothing started. `help` names the command whose --help to point at. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly help: { command?: string } | false = {},
  ) {
    super(message);
  }
}

/** Where the CLI writes (and reads a `-` prompt from); tests pass their own. */
export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  /** Rewrite the current line (a TTY); absent elsewhere. */
  progress?: (s: string) => void;
  /** Where `start <agent> -` reads the prompt (default: process.stdin). */
  stdin?: () => AsyncIterable<Uint8Array | string> & { isTTY?: boolean };
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** How the value shows in help (`<path>`); none for a flag. */
  value?: string;
  help: string;
  /** Already shown in the command's arguments (left out of the option list of the usage line). */
  inArgs?: boolean;
}

export type Values = Record<string, string | boolean | undefined>;

/** One invocation of a command. */
export interface Call {
  args: string[];
  values: Values;
  io: CliIO;
  /** The runner, connected on first use (and closed by `main`). */
  connect(): Promise<AgentRunner>;
}

export interface Command {
  /** The arguments, as the usage line shows them before the options. */
  args: string;
  /** At least / at most this many arguments. */
  arity: [number, number];
  /** What a wrong number of arguments is told: "<command> takes …". */
  takes: string;
  summary: string;
  options: Record<string, OptionSpec>;
  run(call: Call): Promise<number>;
}

export const str = (v: Values, k: string) => v[k] as string | undefined;
export const flag = (v: Values, k: string) => v[k] === true;
export const json: OptionSpec = { type: 'boolean', help: 'print exactly one JSON object on stdout' };

/** Why a file given on the command line could not be read, in a few words. */
export function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (e as Error).message;
}
