/**
 * `agent-runner`: start, follow, inspect, list and cancel runs from the command line.
 *
 * Each command is one entry of {@link COMMANDS}: its arguments, its own options and its handler.
 * `main` looks the command up, parses only that command's options (any other is refused, naming
 * the option and the command) and runs it.
 *
 * Exit code 0 for a completed run (or a command that did its job); 1 for a failed or cancelled
 * run or an error; 2 for bad usage or bad input, when nothing was started or changed. Errors are
 * one line on stderr. With --json, stdout carries exactly one JSON object, byte-exact; human
 * output carries no terminal escapes or control characters (see format.ts).
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ALLOWED_ORIGINS, isLoopbackHost, startCodecServer } from '../connection/codec-server.js';
import { codecSettingsFromEnv, payloadCodecs } from '../connection/codecs.js';
import { MAX_CONVERSATION_BYTES } from '../contract/config.js';
import type { RunResult } from '../contract/run.js';
import { stateQuery } from '../contract/workflow.js';
import { clip, oneLine, plain, reason, summaryLines, transcriptLines } from './format.js';
import {
  AgentRunner,
  RunnerError,
  agentNameProblem,
  serverCause,
  startProblem,
  workflowIdProblem,
  type ListFilter,
  type RunHandle,
  type StartOptions,
} from './runner.js';
import { tellRun, type WatchOutput } from './watch.js';
import { flag, json, readFailure, str, UsageError, type CliIO, type Command, type Values } from './cli-kit.js';
import { PEOPLE_COMMANDS } from './cli-people.js';
import { budgetOverrides, SPEND_COMMANDS } from './cli-spend.js';
import { OUTPUT_OPTIONS, outputStartOptions } from './cli-output.js';
import { formatUsd } from '../contract/prices.js';

export type { CliIO };

const ENVIRONMENT = `environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default),
             AGENT_RUNNER_TASK_QUEUE (agent-runner), TEMPORAL_UI_URL (http://localhost:8233),
             AGENT_RUNNER_COMPRESSION (on), AGENT_RUNNER_ENCRYPTION_KEY[_ID] (payload codecs),
             AGENT_RUNNER_CODEC_ORIGINS, AGENT_RUNNER_CODEC_TOKEN, AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN (codec server)`;

const defaultIO: CliIO = {
  out: (s) => console.log(s),
  err: (s) => console.error(s),
  ...(process.stdout.isTTY && { progress: (s: string) => process.stdout.write(`\r\x1b[K${s}`) }),
};

const COMMANDS: Record<string, Command> = {
  start: {
    args: '<agent> "<prompt>"|-|--prompt-file <path>',
    arity: [1, 2],
    takes: '<agent> "<prompt>", or <agent> - to read the prompt from stdin, or <agent> --prompt-file <path>',
    summary: 'Start a run of <agent> on the prompt (- reads it from stdin); print its workflow id and UI link.',
    options: {
      id: {
        type: 'string',
        value: '<workflowId>',
        help: "the run's workflow id (default <agent>-<random>); while that run is live, the same request attaches to it",
      },
      rerun: { type: 'boolean', help: 'start a new run even if the run with this --id already ran' },
      wait: { type: 'boolean', help: 'wait for the run; print the transcript and the result' },
      json,
      'prompt-file': {
        type: 'string',
        value: '<path>',
        help: "read the prompt from a file (past the shell's ~128 KB argument limit)",
        inArgs: true,
      },
      'max-cost-usd': { type: 'string', value: 'USD', help: "the run's budget in dollars (replaces the agent's)" },
      'max-total-tokens': { type: 'string', value: 'N', help: "the run's budget in tokens of every kind (replaces the agent's)" },
      ...OUTPUT_OPTIONS,
    },
    async run({ args: [agent = '', arg], values, io, connect }) {
      const opts: StartOptions = { ...(flag(values, 'rerun') && { rerun: true }), ...(await outputStartOptions(values)) };
      const overrides = budgetOverrides(values);
      if (overrides) opts.overrides = overrides;
      const id = str(values, 'id');
      if (id !== undefined) {
        const problem = workflowIdProblem(id, '--id');
        if (problem) throw new UsageError(problem, false);
        opts.workflowId = id;
      }
      const prompt = await readPrompt(arg, str(values, 'prompt-file'), io);
      const problem = startProblem(agent, prompt, opts);
      if (problem) throw new UsageError(problem, false);
      const run = await (await connect()).start(agent, prompt, opts);
      const shown = oneLine(run.workflowId);
      const started = `${run.attached ? `attached to ${shown}: it is already running with the same request` : `started ${shown}`}\n${run.url}`;
      if (!flag(values, 'wait')) {
        io.out(flag(values, 'json') ? JSON.stringify({ workflowId: run.workflowId, url: run.url, attached: run.attached }) : started);
        return 0;
      }
      if (!flag(values, 'json')) io.out(started);
      return printResult(run, flag(values, 'json'), io);
    },
  },
  result: {
    args: '<workflowId>',
    arity: [1, 1],
    takes: '<workflowId>',
    summary: 'Wait for a run (finished or not) and print its transcript and result.',
    options: { json },
    run: async ({ args: [id = ''], values, io, connect }) => printResult(await (await connect()).get(id), flag(values, 'json'), io),
  },
  watch: {
    args: '<workflowId>',
    arity: [1, 1],
    takes: '<workflowId>',
    summary: 'Follow a run live until it ends: each model turn, each tool call, progress while the model streams.',
    options: {},
    run: async ({ args: [id = ''], io, connect }) => tell(await (await connect()).get(id), true, io),
  },
  show: {
    args: '<workflowId>',
    arity: [1, 1],
    takes: '<workflowId>',
    summary: 'Print the story so far of any run, finished or not, with its live state.',
    options: {},
    run: async ({ args: [id = ''], io, connect }) => tell(await (await connect()).get(id), false, io),
  },
  cancel: {
    args: '<workflowId>',
    arity: [1, 1],
    takes: '<workflowId>',
    summary: 'Ask a running run to stop.',
    options: { reason: { type: 'string', value: '"…"', help: "why (kept in the run's result)" } },
    async run({ args: [id = ''], values, io, connect }) {
      const why = str(values, 'reason');
      await (await connect()).cancel(id, why);
      io.out(`cancel sent to ${oneLine(id)}${why ? ` (reason: ${reason(why)})` : ''}`);
      return 0;
    },
  },
  list: {
    args: '',
    arity: [0, 0],
    takes: 'only options',
    summary: 'List runs, newest first, from the search attributes.',
    options: {
      status: {
        type: 'string',
        value: 'running|awaiting_approval|awaiting_message|awaiting_budget|completed|failed|cancelled',
        help: 'only runs with this status',
      },
      agent: { type: 'string', value: 'NAME', help: 'only runs of this agent' },
      'min-cost-usd': { type: 'string', value: 'USD', help: 'only runs that have cost at least this much' },
      limit: { type: 'string', value: 'N', help: 'at most N runs (default 20)' },
      json,
    },
    async run({ values, io, connect }) {
      const filter = listFilter(values); // bad usage is told before connecting
      const runs = await (await connect()).list(filter);
      if (flag(values, 'json')) io.out(JSON.stringify({ runs }));
      else if (runs.length === 0) io.out('no runs');
      else {
        io.out(['WORKFLOW ID', 'AGENT', 'STATUS', 'TURNS', 'TOKENS', 'COST', 'STARTED'].join('\t'));
        for (const r of runs) {
          const status = r.temporalStatus !== 'RUNNING' && r.status === 'running' ? r.temporalStatus.toLowerCase() : r.status;
          // One run per line, one cell per column: whatever the id or agent holds, no tab or newline survives.
          const row = [r.workflowId, r.agent, status, r.turns, r.tokens, formatUsd(r.costUsd), r.startTime.toISOString()];
          io.out(row.map(oneLine).join('\t'));
        }
      }
      return 0;
    },
  },
  'codec-server': {
    args: '',
    arity: [0, 0],
    takes: 'only options',
    summary: 'Serve the payload codecs to the Temporal UI until SIGINT/SIGTERM.',
    options: {
      port: { type: 'string', value: '8888', help: 'port (default AGENT_RUNNER_CODEC_PORT, else 8888)' },
      host: { type: 'string', value: '127.0.0.1', help: 'address to listen on (default 127.0.0.1)' },
      'allow-no-token': {
        type: 'boolean',
        help: 'serve a non-loopback address without AGENT_RUNNER_CODEC_TOKEN (only if only trusted hosts can reach it)',
      },
    },
    async run({ values, io }) {
      const port = Number(str(values, 'port') ?? process.env.AGENT_RUNNER_CODEC_PORT ?? 8888);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError('--port must be a port number', { command: 'codec-server' });
      const allowEnv = (process.env.AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN ?? '').trim().toLowerCase();
      if (allowEnv !== '' && allowEnv !== 'true' && allowEnv !== 'false') {
        throw new UsageError(
          `AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN must be "true" or "false", got ${JSON.stringify(process.env.AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN)}`,
          { command: 'codec-server' },
        );
      }
      const host = str(values, 'host') ?? '127.0.0.1';
      const token = process.env.AGENT_RUNNER_CODEC_TOKEN || undefined;
      const allowNoToken = flag(values, 'allow-no-token') || allowEnv === 'true';
      if (!isLoopbackHost(host) && !token && !allowNoToken) {
        throw new UsageError(
          `refusing to serve the codec server on ${host} (not a loopback address) without a token: set AGENT_RUNNER_CODEC_TOKEN, ` +
            'or pass --allow-no-token (AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN=true) if only trusted hosts can reach that address, ' +
            'e.g. a container port published on 127.0.0.1',
          { command: 'codec-server' },
        );
      }
      await serveCodec({ port, host, token, allowNoToken }, io);
      return 0;
    },
  },
  ...PEOPLE_COMMANDS,
  ...SPEND_COMMANDS,
};

const NAMES = Object.keys(COMMANDS);
const NAME_LIST = `${NAMES.slice(0, -1).join(', ')} or ${NAMES.at(-1)}`;

function synopsis(name: string, c: Command): string {
  const opts = Object.entries(c.options)
    .filter(([, spec]) => !spec.inArgs)
    .map(([o, spec]) => (spec.value ? `[--${o} ${spec.value}]` : `[--${o}]`));
  return ['agent-runner', name, c.args, ...opts].filter(Boolean).join(' ');
}

const USAGE = `usage:\n${NAMES.map((n) => `  ${synopsis(n, COMMANDS[n]!)}`).join('\n')}\n\n  agent-runner <command> --help   one command's options\n\n${ENVIRONMENT}`;

function commandHelp(name: string, c: Command): string {
  const rows = Object.entries(c.options).map(([o, spec]) => [`--${o}${spec.value ? ` ${spec.value}` : ''}`, spec.help]);
  const width = Math.max(0, ...rows.map(([l]) => l!.length));
  return [
    `usage: ${synopsis(name, c)}`,
    '',
    c.summary,
    ...(rows.length ? ['', ...rows.map(([l, h]) => `  ${l!.padEnd(width)}  ${h}`)] : []),
  ].join('\n');
}

/** Run the CLI with these arguments; resolves to the process exit code. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    (name ? io.out : io.err)(USAGE);
    return name ? 0 : 2;
  }
  const session: { runner?: AgentRunner } = {};
  try {
    const command = commandNamed(name);
    const { args, values } = parseCommand(name, command, rest);
    if (values.help) {
      io.out(commandHelp(name, command));
      return 0;
    }
    return await command.run({ args, values, io, connect: async () => (session.runner ??= await AgentRunner.connect()) });
  } catch (e) {
    return reportError(e, io);
  } finally {
    await session.runner?.close();
  }
}

function commandNamed(name: string): Command {
  if (Object.hasOwn(COMMANDS, name)) return COMMANDS[name]!;
  throw new UsageError(name.startsWith('-') ? `give a command first: ${NAME_LIST}` : `unknown command "${name}": use ${NAME_LIST}`);
}

/** This command's arguments and options; any option it does not take is refused, naming it. */
function parseCommand(name: string, command: Command, argv: string[]): { args: string[]; values: Values } {
  const options = {
    ...Object.fromEntries(Object.entries(command.options).map(([o, spec]) => [o, { type: spec.type }])),
    help: { type: 'boolean' as const, short: 'h' },
  };
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option' || Object.hasOwn(options, t.name)) continue;
    const owners = NAMES.filter((n) => Object.hasOwn(COMMANDS[n]!.options, t.name));
    const own = Object.keys(command.options).map((o) => `--${o}`);
    throw new UsageError(
      `${name} does not take ${t.rawName}${owners.length ? ` (an option of ${owners.join(', ')})` : ''}; ` +
        (own.length ? `its options: ${own.join(', ')}` : 'it takes no options'),
      { command: name },
    );
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message.split('\n')[0]}`, { command: name });
  }
  const values = parsed.values as Values;
  const [min, max] = command.arity;
  const n = parsed.positionals.length;
  if (!values.help && (n < min || n > max)) throw new UsageError(`${name} takes ${command.takes}`, { command: name });
  return { args: parsed.positionals, values };
}

function reportError(e: unknown, io: CliIO): number {
  if (e instanceof UsageError) {
    const help = e.help ? ` (see agent-runner ${e.help.command ? `${e.help.command} ` : ''}--help)` : '';
    io.err(`error: ${clip(e.message, 1000)}${help}`);
    return 2;
  }
  let message = e instanceof RunnerError ? e.message : ((e as Error)?.message ?? String(e)).split('\n')[0]!;
  const cause = serverCause(e);
  if (!(e instanceof RunnerError) && !message.includes(cause)) message += `: ${cause}`; // e.g. "Failed to …: <the server's reason>"
  io.err(`error: ${clip(message, 1000)}`);
  return 1;
}

/** The prompt of `start`: the argument, stdin for `-`, or the file of --prompt-file; read at most the conversation limit. */
async function readPrompt(arg: string | undefined, file: string | undefined, io: CliIO): Promise<string> {
  const takes = { command: 'start' };
  if (arg !== undefined && file !== undefined)
    throw new UsageError('give the prompt once: as an argument, as - (stdin) or with --prompt-file', takes);
  if (file !== undefined) {
    try {
      return await readBounded(createReadStream(file), `the prompt file ${file}`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot read --prompt-file ${file}: ${readFailure(e)}`, false);
    }
  }
  if (arg === undefined) throw new UsageError(`start takes ${COMMANDS.start!.takes}`, takes);
  if (arg !== '-') return arg;
  const stdin = io.stdin?.() ?? process.stdin;
  if (stdin.isTTY) io.err('reading the prompt from stdin; end it with Ctrl-D');
  return readBounded(stdin, 'the prompt on stdin');
}

async function readBounded(source: AsyncIterable<Uint8Array | string>, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    bytes += b.length;
    if (bytes > MAX_CONVERSATION_BYTES) {
      throw new UsageError(
        `${what} is over the ${MAX_CONVERSATION_BYTES}-byte limit of a run's conversation: shorten the prompt, or give the agent a tool that fetches large data`,
        false,
      );
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
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

const LIST_STATUSES = ['running', 'awaiting_approval', 'awaiting_message', 'awaiting_budget', 'completed', 'failed', 'cancelled'];

/** The filter of `list`, its values checked here: a bad one is bad usage. */
function listFilter(values: Values): ListFilter {
  const filter: ListFilter = {};
  const [status, agent, limit, minCost] = [str(values, 'status'), str(values, 'agent'), str(values, 'limit'), str(values, 'min-cost-usd')];
  const bad = (m: string) => new UsageError(m, { command: 'list' });
  if (status !== undefined) {
    if (!LIST_STATUSES.includes(status)) throw bad(`--status must be one of ${LIST_STATUSES.join(', ')}`);
    filter.status = status as ListFilter['status'];
  }
  if (agent !== undefined) {
    const problem = agentNameProblem(agent);
    if (problem) throw bad(problem);
    filter.agent = agent;
  }
  if (limit !== undefined) {
    if (!/^[1-9]\d{0,5}$/.test(limit)) throw bad('--limit must be a positive integer');
    filter.limit = Number(limit);
  }
  if (minCost !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(minCost)) throw bad('--min-cost-usd must be a number of dollars, e.g. 0.05');
    filter.minCostUsd = Number(minCost);
  }
  return filter;
}

async function tell(run: RunHandle, follow: boolean, io: CliIO): Promise<number> {
  let progressShown = false;
  const out: WatchOutput = {
    line: (text) => {
      if (progressShown) io.progress?.('');
      progressShown = false;
      io.out(plain(text));
    },
    ...(io.progress && {
      progress: (text: string) => {
        io.progress?.(oneLine(text));
        progressShown = true;
      },
    }),
  };
  const story = await tellRun(run, { follow, out });
  if (story.stuck) {
    io.err(`error: ${story.stuck}`);
    return 1;
  }
  if (!story.closed) {
    const state = await run.temporal.query(stateQuery).catch(() => undefined);
    io.out(
      state
        ? `still running: turn ${state.turn}, ${oneLine(state.phase.replace('_', ' '))}${state.pendingTools.length ? ` (${state.pendingTools.map((t) => oneLine(t.name)).join(', ')})` : ''}`
        : 'still running',
    );
    io.out(run.url);
    return 0;
  }
  if (story.result) for (const l of summaryLines(story.result, run.url)) io.out(l);
  else io.out(`workflow id: ${run.workflowId}\nTemporal UI: ${run.url}`);
  if (story.closed === 'completed') return 0;
  io.err(`run ${story.closed}: ${reason(story.result?.error ?? story.closeMessage)}`);
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
    io.err(`run ${oneLine(result.status)}: ${reason(result.error ?? result.stopReason ?? 'no reason given')}`);
    return 1;
  }
  return 0;
}
