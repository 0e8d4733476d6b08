/**
 * `agent-runner`: start runs and read their results from the command line.
 *
 *   agent-runner start <agent> "<prompt>" [--id <workflowId>] [--wait] [--json]
 *   agent-runner result <workflowId> [--json]
 *
 * Exit code 0 for a completed run; 1 for a failed or cancelled run or an error; 2 for bad usage.
 * Errors are one line on stderr. With --json, stdout carries exactly one JSON object.
 */
import { parseArgs } from 'node:util';
import { summaryLines, transcriptLines } from './format.js';
import { AgentRunner, RunnerError, type RunHandle } from './runner.js';
import type { RunResult } from '../workflows/types.js';

const USAGE = `usage:
  agent-runner start <agent> "<prompt>" [--id <workflowId>] [--wait] [--json]
  agent-runner result <workflowId> [--json]

environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default),
             AGENT_RUNNER_TASK_QUEUE (agent-runner), TEMPORAL_UI_URL (http://localhost:8233)`;

class UsageError extends Error {}

/** Run the CLI with these arguments; resolves to the process exit code. */
export async function main(argv: string[], io = { out: (s: string) => console.log(s), err: (s: string) => console.error(s) }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        id: { type: 'string' },
        wait: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    io.err(`error: ${(e as Error).message} (see agent-runner --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  let runner: AgentRunner | undefined;
  try {
    switch (command) {
      case 'start': {
        const [agent, prompt, ...extra] = rest;
        if (!agent || prompt === undefined || extra.length) throw new UsageError('start takes <agent> "<prompt>"');
        runner = await AgentRunner.connect();
        const run = await runner.start(agent, prompt, values.id ? { workflowId: values.id } : {});
        if (!values.wait) {
          if (values.json) io.out(JSON.stringify({ workflowId: run.workflowId, url: run.url }));
          else io.out(`started ${run.workflowId}\n${run.url}`);
          return 0;
        }
        if (!values.json) io.out(`started ${run.workflowId}\n${run.url}`);
        return await printResult(run, values.json, io);
      }
      case 'result': {
        const [workflowId, ...extra] = rest;
        if (!workflowId || extra.length) throw new UsageError('result takes <workflowId>');
        runner = await AgentRunner.connect();
        return await printResult(await runner.get(workflowId), values.json, io);
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message} (see agent-runner --help)`);
      return 2;
    }
    io.err(`error: ${e instanceof RunnerError ? e.message : ((e as Error).message ?? String(e)).split('\n')[0]}`);
    return 1;
  } finally {
    await runner?.close();
  }
}

async function printResult(run: RunHandle, json: boolean, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const result: RunResult = await run.result();
  if (json) io.out(JSON.stringify({ ...result, url: run.url }));
  else {
    for (const line of transcriptLines(result.messages)) io.out(line);
    io.out('');
    for (const line of summaryLines(result, run.url)) io.out(line);
  }
  if (result.status !== 'completed') {
    io.err(`run ${result.status}: ${result.error ?? result.stopReason ?? 'no reason given'}`);
    return 1;
  }
  return 0;
}
