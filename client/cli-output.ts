/**
 * Structured output from the command line: `start --output-schema <file> [--output-attempts N]`
 * reads and checks the schema before anything starts (bad file, not JSON, not an object schema,
 * a keyword strict tool use lacks: one line, exit 2).
 */
import { readFile, stat } from 'node:fs/promises';
import { MAX_OUTPUT_ATTEMPTS, MAX_OUTPUT_SCHEMA_BYTES, outputSchemaProblem } from '../contract/output-schema.js';
import { readFailure, str, UsageError, type OptionSpec, type Values } from './cli-kit.js';
import type { StartOptions } from './runner.js';

/** The options `start` takes for structured output. */
export const OUTPUT_OPTIONS: Record<string, OptionSpec> = {
  'output-schema': {
    type: 'string',
    value: '<file>',
    help: 'structured output: the answer must be JSON valid against this JSON Schema (an object schema)',
  },
  'output-attempts': {
    type: 'string',
    value: 'N',
    help: `how many times the model may try to give a valid output (default 3, at most ${MAX_OUTPUT_ATTEMPTS})`,
  },
};

/** The start options of `--output-schema` / `--output-attempts`, read and checked. */
export async function outputStartOptions(values: Values): Promise<Pick<StartOptions, 'outputSchema' | 'outputAttempts'>> {
  const file = str(values, 'output-schema');
  const attempts = str(values, 'output-attempts');
  const out: Pick<StartOptions, 'outputSchema' | 'outputAttempts'> = {};
  if (attempts !== undefined) {
    if (!/^\d{1,2}$/.test(attempts) || Number(attempts) < 1 || Number(attempts) > MAX_OUTPUT_ATTEMPTS)
      throw new UsageError(`--output-attempts must be an integer from 1 to ${MAX_OUTPUT_ATTEMPTS}`, { command: 'start' });
    out.outputAttempts = Number(attempts);
  }
  if (file !== undefined) out.outputSchema = await readSchema(file);
  return out;
}

async function readSchema(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    if ((await stat(file)).size > MAX_OUTPUT_SCHEMA_BYTES)
      throw new UsageError(`--output-schema ${file} is over the ${MAX_OUTPUT_SCHEMA_BYTES}-byte limit of an output schema`, false);
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read --output-schema ${file}: ${readFailure(e)}`, false);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--output-schema ${file} is not JSON: ${(e as Error).message}`, false);
  }
  const problem = outputSchemaProblem(schema);
  if (problem) throw new UsageError(`--output-schema ${file}: ${problem}`, false);
  return schema as Record<string, unknown>;
}
