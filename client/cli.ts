/**
 * `agent-runner`: start, follow, inspect, list and cancel runs from the command line.
 *
 * Exit code 0 for a completed run (or a command that did its job); 1 for a failed or cancelled
 * run or an error; 2 for bad usage. Errors are one line on stderr. With --json, stdout carries
 * exactly one JSON object.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ALLOWED_ORIGINS, isLoopbackHost, startCodecServer } from '../connection/codec-server.js';
import { codecSettingsFromEnv, payloadCodecs } from '../connection/codecs.js';
import type { RunResult } from '../contract/run.js';
import { stateQuery } from '../contract/workflow.js';
import { clip, summaryLines, transcriptLines } from './format.js';
import { AgentRunner, RunnerError, type ListFilter, type RunHandle } from './runner.js';
import { tellRun, type WatchOutput } from './watch.js';

const USAGE = `usage:
  agent-runner start <agent> "<prompt>" [--id <workflowId>] [--wait] [--json]
  agent-runner result <workflowId> [--json]
  agent-runner watch <workflowId>
  agent-runner show <workflowId>
  agent-runner cancel <workflowId> [--reason "…"]
  agent-runner list [--status running|completed|failed|cancelled] [--agent NAME] [--limit N] [--json]
  agent-runner codec-server [--port 8888] [--host 127.0.0.1] [--allow-no-token]

environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default),
             AGENT_RUNNER_TASK_QUEUE (agent-runner), TEMPORAL_UI_URL (http://localhost:8233),
             AGENT_RUNNER_COMPRESSION (on), AGENT_RUNNER_ENCRYPTION_KEY[_ID] (payload codecs),
             AGENT_RUNNER_CODEC_ORIGINS, AGENT_RUNNER_CODEC_TOKEN, AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN (codec server)`;

class UsageError extends Error {}

/** Where the CLI writes; tests pass their own. */
export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  /** Rewrite the current line (a TTY); absent elsewhere. */
  progress?: (s: string) => void;
}

const defaultIO: CliIO = {
  out: (s) => console.log(s),
  err: (s) => console.error(s),
  ...(process.stdout.isTTY && { progress: (s: string) => process.stdout.write(`\r\x1b[K${s}`) }),
};

/** Run the CLI with these arguments; resolves to the process exit code. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        id: { type: 'string' },
        wait: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        reason: { type: 'string' },
        status: { type: 'string' },
        agent: { type: 'string' },
        limit: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'allow-no-token': { type: 'boolean', default: false },
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
  const one = (what: string): string => {
    const [id, ...extra] = rest;
    if (!id || extra.length) throw new UsageError(`${command} takes ${what}`);
    return id;
  };
  let runner: AgentRunner | undefined;
  const connect = async () => (runner = await AgentRunner.connect());
  try {
    switch (command) {
      case 'start': {
        const [agent, prompt, ...extra] = rest;
        if (!agent || prompt === undefined || extra.length) throw new UsageError('start takes <agent> "<prompt>"');
        const run = await (await connect()).start(agent, prompt, values.id ? { workflowId: values.id } : {});
        if (!values.wait) {
          io.out(values.json ? JSON.stringify({ workflowId: run.workflowId, url: run.url }) : `started ${run.workflowId}\n${run.url}`);
          return 0;
        }
        if (!values.json) io.out(`started ${run.workflowId}\n${run.url}`);
        return await printResult(run, values.json, io);
      }
      case 'result':
        return await printResult(await (await connect()).get(one('<workflowId>')), values.json, io);
      case 'watch':
      case 'show': {
        const run = await (await connect()).get(one('<workflowId>'));
        return await tell(run, command === 'watch', io);
      }
      case 'cancel': {
        const id = one('<workflowId>');
        await (await connect()).cancel(id, values.reason);
        io.out(`cancel sent to ${id}${values.reason ? ` (reason: ${values.reason})` : ''}`);
        return 0;
      }
      case 'list': {
        if (rest.length) throw new UsageError('list takes only options');
        const filter = listFilter(values);
        const runs = await (await connect()).list(filter);
        if (values.json) io.out(JSON.stringify({ runs }));
        else if (runs.length === 0) io.out('no runs');
        else {
          io.out(['WORKFLOW ID', 'AGENT', 'STATUS', 'TURNS', 'TOKENS', 'STARTED'].join('\t'));
          for (const r of runs) {
            const status = r.temporalStatus !== 'RUNNING' && r.status === 'running' ? r.temporalStatus.toLowerCase() : r.status;
            io.out([r.workflowId, r.agent, status, r.turns, r.tokens, r.startTime.toISOString()].join('\t'));
          }
        }
        return 0;
      }
      case 'codec-server': {
        if (rest.length) throw new UsageError('codec-server takes only options');
        const port = Number(values.port ?? process.env.AGENT_RUNNER_CODEC_PORT ?? 8888);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a port number');
        const allowEnv = (process.env.AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN ?? '').trim().toLowerCase();
        if (allowEnv !== '' && allowEnv !== 'true' && allowEnv !== 'false') {
          throw new UsageError(
            `AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN must be "true" or "false", got ${JSON.stringify(process.env.AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN)}`,
          );
        }
        const host = values.host ?? '127.0.0.1';
        const token = process.env.AGENT_RUNNER_CODEC_TOKEN || undefined;
        const allowNoToken = values['allow-no-token'] || allowEnv === 'true';
        if (!isLoopbackHost(host) && !token && !allowNoToken) {
          throw new UsageError(
            `refusing to serve the codec server on ${host} (not a loopback address) without a token: set AGENT_RUNNER_CODEC_TOKEN, ` +
              'or pass --allow-no-token (AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN=true) if only trusted hosts can reach that address, ' +
              'e.g. a container port published on 127.0.0.1',
          );
        }
        await serveCodec({ port, host, token, allowNoToken }, io);
        return 0;
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
    await (runner as AgentRunner | undefined)?.close();
  }
}

/** Run the codec server until SIGINT/SIGTERM. */
async function serveCodec(
  opts: { port: number; host: string; token: string | undefined; allowNoToken: boolean },
  io: CliIO,
): Promise<void> {
  const { port, host, token, allowNoToken } = opts;
  const settings = codecSettingsFromEnv();
  const origins = process.env.AGENT_RUNNER_CODEC_ORIGINS?.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const server = await startCodecServer({
    codecs: payloadCodecs(settings),
    port,
    host,
    allowNoToken,
    ...(origins?.length && { allowedOrigins: origins }),
    ...(token && { authToken: token }),
  });
  const access = token
    ? 'bearer token required'
    : isLoopbackHost(host)
      ? 'no token'
      : 'no token (allowed explicitly): answers only to localhost, 127.0.0.1, [::1]';
  // Listen for the signals before saying it is up: a supervisor may stop it as soon as it reads that.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  io.out(
    `codec server on ${server.url}: compression ${settings.compress ? 'on' : 'off'}, ` +
      `encryption ${settings.encryption ? `on (key id ${settings.encryption.encryptWith})` : 'off'}; ` +
      `origins ${(origins ?? DEFAULT_ALLOWED_ORIGINS).join(', ')}; ${access}`,
  );
  await stopped;
  await server.close();
}

function listFilter(values: { status?: string | undefined; agent?: string | undefined; limit?: string | undefined }): ListFilter {
  const filter: ListFilter = {};
  if (values.status !== undefined) filter.status = values.status as ListFilter['status'];
  if (values.agent !== undefined) filter.agent = values.agent;
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit)) throw new RunnerError('--limit must be a positive integer');
    filter.limit = Number(values.limit);
  }
  return filter;
}

async function tell(run: RunHandle, follow: boolean, io: CliIO): Promise<number> {
  let progressShown = false;
  const out: WatchOutput = {
    line: (text) => {
      if (progressShown) io.progress?.('');
      progressShown = false;
      io.out(text);
    },
    ...(io.progress && {
      progress: (text: string) => {
        io.progress?.(text);
        progressShown = true;
      },
    }),
  };
  const story = await tellRun(run, { follow, out });
  if (!story.closed) {
    const state = await run.temporal.query(stateQuery).catch(() => undefined);
    io.out(
      state
        ? `still running: turn ${state.turn}, ${state.phase.replace('_', ' ')}${state.pendingTools.length ? ` (${state.pendingTools.map((t) => t.name).join(', ')})` : ''}`
        : 'still running',
    );
    io.out(run.url);
    return 0;
  }
  if (story.result) for (const l of summaryLines(story.result, run.url)) io.out(l);
  else io.out(`workflow id: ${run.workflowId}\nTemporal UI: ${run.url}`);
  if (story.closed === 'completed') return 0;
  io.err(`run ${story.closed}: ${clip(story.result?.error ?? story.closeMessage, 300)}`);
  return 1;
}

async function printResult(run: RunHandle, json: boolean, io: CliIO): Promise<number> {
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
