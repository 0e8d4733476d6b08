/**
 * The client library: start agent runs and await their results from your own scripts.
 *
 * ```ts
 * import { AgentRunner } from 'agent-runner/client';
 * const runner = await AgentRunner.connect();
 * const run = await runner.start('triage', 'Where is my order 48810?');
 * const result = await run.result();
 * console.log(result.finalText);
 * ```
 */
import {
  CancelledFailure,
  Client,
  Connection,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  ApplicationFailure,
  type WorkflowHandle,
} from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { dataConverter } from '../connection/codecs.js';
import { RunnerError } from './errors.js';
import { decide, endSession, pendingCalls, raiseBudget, say, send, type DecisionOptions, type PendingCall } from './people.js';
import { RunStuckError, watchStuck } from './stuck.js';
import { restoreResult } from './transcript.js';
import { runnerSettings, runUrl, type RunnerSettings } from '../connection/settings.js';
import type { MessageParam } from '../contract/messages.js';
import { emptyUsage, OVERRIDE_KEYS, type RunInput, type RunOverrides, type RunResult, type RunState } from '../contract/run.js';
import { runInputProblem } from '../contract/run-input.js';
import { AgentCostUsd, AgentName, AgentStatus, AgentTokens, AgentTurns } from '../contract/search-attributes.js';
import {
  AGENT_WORKFLOW_TYPE,
  cancelSignal,
  stateQuery,
  type BudgetArgs,
  type BudgetResult,
  type DecideResult,
  type SendResult,
} from '../contract/workflow.js';
import { decodePayloads } from './run-story.js';

export { RunnerError };
export { RunStuckError } from './stuck.js';

/** Options of {@link AgentRunner.start}. */
export interface StartOptions {
  /**
   * Workflow id of the run (default: `<agent>-<random>`). Starting is idempotent by id: while a
   * run with this id is live, the same request (agent, prompt or messages, overrides) attaches to
   * it ({@link RunHandle.attached}) and a different one is refused; once it has ended, starting
   * again is refused (it already ran) unless `rerun` is set.
   */
  workflowId?: string;
  overrides?: RunOverrides;
  /** Start a new run even if a run with this workflow id already ran (a live one is still attached to, never duplicated). */
  rerun?: boolean;
  /**
   * Structured output: the run's answer must be JSON valid against this JSON Schema (an object
   * schema in the subset strict tool use accepts); `result.output` carries it. Replaces the
   * agent's own output schema.
   */
  outputSchema?: Record<string, unknown>;
  /** How many times the model may try to give a valid output (default the agent's, else 3; at most 10). */
  outputAttempts?: number;
}

const RUN_STATUSES = ['running', 'awaiting_approval', 'awaiting_message', 'awaiting_budget', 'completed', 'failed', 'cancelled'];

/** The names workers can serve (the registry, agents/registry.ts, accepts no others). */
const AGENT_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/** The problem with an agent name, as one line, or null. */
export function agentNameProblem(agent: unknown): string | null {
  if (typeof agent !== 'string' || agent.trim() === '') return 'agent name is required (e.g. "triage")';
  if (!AGENT_NAME.test(agent)) return `invalid agent name ${JSON.stringify(agent)}: agent names are 1 to 64 letters, digits, _, . or -`;
  return null;
}

/**
 * The problem with a workflow id for a new run, as one line, or null. `label` names it as the
 * caller knows it (`--id` in the CLI). Empty ids, control characters and whitespace other than
 * spaces are refused: they break `list` and the terminal. How long an id may be is the server's
 * call (its message says so).
 */
export function workflowIdProblem(id: unknown, label = 'workflowId'): string | null {
  if (typeof id !== 'string') return `${label} must be a string, got ${id === null ? 'null' : typeof id}`;
  if (id.trim() === '') return `${label} must not be empty: give an id, or leave ${label} out for a random one`;
  const bad = /[\p{Cc}]|[^\S ]/u.exec(id);
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return `${label} contains ${code} at position ${bad.index + 1}: a workflow id may hold no control characters and no whitespace but spaces`;
  }
  return null;
}

const START_OPTIONS: readonly string[] = ['workflowId', 'overrides', 'rerun', 'outputSchema', 'outputAttempts'];

/** Memo key carrying a random id of the start request, so `start` can tell a run it started from one it attached to. */
const START_REQUEST_MEMO = 'agentRunnerStartRequest';

/** JSON with object keys sorted, to compare values whatever their key order. */
function canonical(v: unknown): string {
  return (
    JSON.stringify(v, (_k, x: unknown) =>
      x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : x,
    ) ?? 'undefined'
  );
}

/** How a live run's input differs from the request to start one, or null for the same request. */
function requestDifference(theirs: unknown, ours: RunInput): string | null {
  if (typeof theirs !== 'object' || theirs === null) return 'it is not an agent run';
  const t = theirs as RunInput;
  const noOverrides = (o: RunOverrides | undefined) => (o && Object.keys(o).length ? o : undefined);
  if (t.agent !== ours.agent) return 'its agent differs';
  if (canonical(t.prompt) !== canonical(ours.prompt)) return t.prompt === undefined ? 'it started from messages' : 'its prompt differs';
  if (canonical(t.messages) !== canonical(ours.messages))
    return t.messages === undefined ? 'it started from a prompt' : 'its messages differ';
  if (canonical(noOverrides(t.overrides)) !== canonical(noOverrides(ours.overrides))) return 'its overrides differ';
  if (canonical(t.outputSchema) !== canonical(ours.outputSchema) || t.outputAttempts !== ours.outputAttempts)
    return 'its structured output differs';
  return null;
}

/** The run input a start builds: `prompt` unless given `{ messages }`. */
function runInput(agent: string, prompt: unknown, opts: StartOptions): RunInput {
  const conversation = typeof prompt === 'object' && prompt !== null && !Array.isArray(prompt);
  return {
    agent,
    ...(conversation ? { messages: (prompt as { messages: MessageParam[] }).messages } : { prompt: prompt as string }),
    ...(opts.overrides !== undefined && { overrides: opts.overrides }),
    ...(opts.outputSchema !== undefined && { outputSchema: opts.outputSchema }),
    ...(opts.outputAttempts !== undefined && { outputAttempts: opts.outputAttempts }),
  };
}

/**
 * The first problem with the arguments of {@link AgentRunner.start}, as one line, or null: the run
 * input (contract/run-input.ts), the agent's name, the workflow id and the options themselves.
 */
export function startProblem(agent: unknown, prompt: unknown, opts: unknown = {}): string | null {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts))
    return `start options must be an object { ${START_OPTIONS.join('?, ')}? }`;
  for (const k of Object.keys(opts)) {
    if (START_OPTIONS.includes(k)) continue;
    const override = (OVERRIDE_KEYS as readonly string[]).includes(k) ? ` (${k} is an override: { overrides: { ${k} } })` : '';
    return `unknown start option "${k}": use ${START_OPTIONS.join(', ')}${override}`;
  }
  const o = opts as StartOptions;
  return (
    runInputProblem(runInput(agent as string, prompt, o)) ??
    agentNameProblem(agent) ??
    (o.workflowId !== undefined ? workflowIdProblem(o.workflowId) : null) ??
    (o.rerun !== undefined && typeof o.rerun !== 'boolean' ? `rerun must be true or false, got ${JSON.stringify(o.rerun)}` : null)
  );
}

/** The server's own words behind a client error (the gRPC status details at the end of the `cause` chain). */
export function serverCause(e: unknown): string {
  const chain: { message?: string; details?: string }[] = [];
  for (let c = e as { message?: string; details?: string; cause?: unknown } | undefined; c && chain.length < 10; c = c.cause as typeof c)
    chain.push(c);
  const deepest = chain.at(-1);
  return (deepest?.details || deepest?.message || String(e)).split('\n')[0]!;
}

/** Filters of {@link AgentRunner.list}. */
export interface ListFilter {
  status?: 'running' | 'awaiting_approval' | 'awaiting_message' | 'awaiting_budget' | 'completed' | 'failed' | 'cancelled';
  agent?: string;
  /** Only runs that have cost at least this many USD (`AgentCostUsd`). */
  minCostUsd?: number;
  /** Default 20. */
  limit?: number;
}

/** One run in a listing. */
export interface RunSummary {
  workflowId: string;
  agent: string;
  /** The run's own status (AgentStatus): running, awaiting_approval, awaiting_message, awaiting_budget, completed, failed, cancelled. */
  status: string;
  turns: number;
  tokens: number;
  /** USD spent (`AgentCostUsd`): null for a run without it (no price for its model, or not registered). */
  costUsd: number | null;
  startTime: Date;
  closeTime: Date | undefined;
  /** Temporal's status of the execution (RUNNING, COMPLETED, TERMINATED, …). */
  temporalStatus: string;
}

/** A started (or looked-up) run. */
export class RunHandle {
  /** @internal */
  constructor(
    private readonly handle: WorkflowHandle,
    private readonly settings: RunnerSettings,
    /** The Temporal client in use. */
    readonly client: Client,
    /** Whether `start` found this run already running with the same request and attached to it, rather than starting it. */
    readonly attached = false,
  ) {}

  /** The run's workflow id. */
  get workflowId(): string {
    return this.handle.workflowId;
  }

  /** Link to the run in the Temporal Web UI. */
  get url(): string {
    return runUrl(this.settings, this.workflowId);
  }

  /** The underlying Temporal handle, for signals, queries and history. */
  get temporal(): WorkflowHandle {
    return this.handle;
  }

  /**
   * Wait for the run to end. Failed and cancelled runs resolve too (see `status`); this throws
   * only when the run cannot be found or the server cannot be reached.
   */
  async result(): Promise<RunResult> {
    let result: RunResult;
    // A run whose workflow task keeps failing would keep this waiting forever: say so instead.
    const abort = new AbortController();
    const watch = watchStuck(this.client, this.handle);
    try {
      result = await Promise.race([
        this.client.connection.withAbortSignal(abort.signal, () => this.handle.result()) as Promise<RunResult>,
        watch.stuck.then((line) => {
          abort.abort();
          throw new RunStuckError(line);
        }),
      ]);
    } catch (err) {
      if (err instanceof RunStuckError) throw err;
      if (err instanceof WorkflowNotFoundError) throw notFound(this.workflowId, this.settings);
      if (!(err instanceof WorkflowFailedError)) throw err;
      result = this.failedResult(err);
    } finally {
      watch.stop();
    }
    // A result too large for one payload left out what the history holds: put it back.
    return restoreResult(this.client, this.workflowId, result);
  }

  private failedResult(err: WorkflowFailedError): RunResult {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && isRunResult(cause.details?.[0])) {
      return { ...cause.details[0], status: 'failed', error: cause.message };
    }
    const base: RunResult = {
      workflowId: this.workflowId,
      agent: '',
      status: 'failed',
      stopReason: 'error',
      finalText: '',
      turns: 0,
      usage: emptyUsage(),
      messages: [],
    };
    if (cause instanceof CancelledFailure) return { ...base, status: 'cancelled', stopReason: 'cancelled', error: 'cancelled' };
    if (cause instanceof TerminatedFailure) return { ...base, error: `terminated: ${cause.message}` };
    if (cause instanceof TimeoutFailure) return { ...base, error: 'the run hit its workflow timeout' };
    return { ...base, error: cause?.message ?? err.message };
  }
}

function isRunResult(x: unknown): x is RunResult {
  return typeof x === 'object' && x !== null && 'workflowId' in x && 'messages' in x && 'usage' in x;
}

function notFound(workflowId: string, s: RunnerSettings): RunnerError {
  return new RunnerError(`no run with workflow id "${workflowId}" in namespace "${s.namespace}" at ${s.connection.address}`);
}

/** Starts runs on the `agent-runner` task queue and looks them up. */
export class AgentRunner {
  private constructor(
    /** The Temporal client in use. */
    readonly client: Client,
    /** The settings it was built from. */
    readonly settings: RunnerSettings,
    private readonly ownsConnection: boolean,
  ) {}

  /**
   * Connect using the environment (TEMPORAL_ADDRESS, …, and the payload codec settings
   * AGENT_RUNNER_COMPRESSION / AGENT_RUNNER_ENCRYPTION_KEY), or reuse a Temporal client you
   * already have (give it the same `dataConverter()` as the workers).
   */
  static async connect(opts: { settings?: Partial<RunnerSettings>; client?: Client } = {}): Promise<AgentRunner> {
    const settings = { ...runnerSettings(), ...opts.settings };
    if (opts.client) return new AgentRunner(opts.client, { ...settings, namespace: opts.client.options.namespace }, false);
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...settings.connection, connectTimeout: '5s' });
    } catch (e) {
      throw new RunnerError(
        `cannot reach Temporal at ${settings.connection.address} (${(e as Error).message.split('\n')[0]}): start it with \`npm run server\` or set TEMPORAL_ADDRESS`,
      );
    }
    return new AgentRunner(new Client({ connection, namespace: settings.namespace, dataConverter: dataConverter() }), settings, true);
  }

  /** Start a run of `agent` on a prompt (or an initial conversation). Bad input throws before anything starts. */
  async start(agent: string, prompt: string | { messages: MessageParam[] }, opts: StartOptions = {}): Promise<RunHandle> {
    const problem = startProblem(agent, prompt, opts);
    if (problem) throw new RunnerError(problem);
    const input = runInput(agent, prompt, opts);
    const workflowId = opts.workflowId ?? `${agent}-${randomUUID().slice(0, 8)}`;
    const firstLine = (typeof prompt === 'string' ? prompt : JSON.stringify(prompt.messages[0]?.content ?? '')).split('\n')[0] ?? '';
    const requestId = randomUUID();
    let handle;
    try {
      handle = await this.client.workflow.start(AGENT_WORKFLOW_TYPE, {
        taskQueue: this.settings.taskQueue,
        workflowId,
        args: [input],
        // Idempotent by id: a live run is attached to (checked below to be the same request), an ended one is not run again unless asked.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: opts.rerun ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
        ...(opts.workflowId !== undefined && { memo: { [START_REQUEST_MEMO]: requestId } }),
        staticSummary: `${agent}: ${firstLine.length > 100 ? `${firstLine.slice(0, 99)}…` : firstLine}`,
        typedSearchAttributes: [
          { key: AgentName, value: agent },
          { key: AgentStatus, value: 'running' },
          { key: AgentTurns, value: 0 },
          { key: AgentTokens, value: 0 },
        ],
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) throw await this.alreadyRan(workflowId);
      // The SDK says "Failed to start Workflow"; the server's reason is in the cause.
      const cause = serverCause(e);
      if (/search attribute .* is not defined|no mapping defined for search attribute/i.test(cause)) {
        throw new RunnerError(
          `the search attributes AgentName, AgentStatus, AgentTurns, AgentTokens are not registered on namespace "${this.settings.namespace}": ` +
            'use `npm run server`, or register them with `temporal operator search-attribute create` (see README)',
        );
      }
      throw new RunnerError(`cannot start the run: ${cause}`, { cause: e });
    }
    // A random id cannot have been running already; a given one may have been.
    const attached = opts.workflowId !== undefined && (await this.attachedTo(workflowId, handle.firstExecutionRunId, input, requestId));
    return new RunHandle(handle, this.settings, this.client, attached);
  }

  /**
   * Whether the execution `start` returned is one this request attached to rather than started
   * (its memo carries another request's id). Attaching is only for the same request: the live
   * run's input, from the first event of the first execution of its chain (decoded with this
   * client's data converter), must match; otherwise this throws and nothing is changed.
   */
  private async attachedTo(workflowId: string, runId: string, input: RunInput, requestId: string): Promise<boolean> {
    const converter = this.client.options.loadedDataConverter;
    const started = await this.startedEvent(workflowId, runId);
    const memo = started?.memo?.fields?.[START_REQUEST_MEMO];
    if (memo && (await decodePayloads(converter, { payloads: [memo] }))[0] === requestId) return false;
    const firstRunId = started?.firstExecutionRunId;
    const origin = firstRunId && firstRunId !== runId ? await this.startedEvent(workflowId, firstRunId) : started;
    if (!origin) {
      throw new RunnerError(
        `a run is running with workflow id "${workflowId}" whose request can no longer be read (its first execution's history is gone): pick another id`,
      );
    }
    const [theirs] = origin.workflowType?.name === AGENT_WORKFLOW_TYPE ? await decodePayloads(converter, origin.input) : [undefined];
    const difference = requestDifference(theirs, input);
    if (difference) {
      throw new RunnerError(
        `a different run is running with workflow id "${workflowId}" (${difference}): pick another id, or give the same agent, prompt and overrides to attach to it`,
      );
    }
    return true;
  }

  /** The started event of one execution, or undefined when its history is gone. */
  private async startedEvent(workflowId: string, runId: string) {
    try {
      const res = await this.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.client.options.namespace,
        execution: { workflowId, runId },
        maximumPageSize: 1,
      });
      return res.history?.events?.[0]?.workflowExecutionStartedEventAttributes ?? undefined;
    } catch (e) {
      if ((e as { code?: number }).code === 5 /* NOT_FOUND */) return undefined;
      throw e;
    }
  }

  /** The error for a start refused because a run with this id already ran: its status, and what to do. */
  private async alreadyRan(workflowId: string): Promise<RunnerError> {
    let status = 'ended';
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      // A cancelled run is a *completed* workflow in Temporal's terms: the run's own status says which.
      status =
        d.status.name === 'COMPLETED'
          ? (d.typedSearchAttributes.get(AgentStatus) ?? 'completed')
          : d.status.name.toLowerCase().replace('_', ' ');
    } catch {
      // The status is a courtesy; the refusal stands without it.
    }
    return new RunnerError(
      `run "${workflowId}" already ran (${status}): get its result with \`agent-runner result ${workflowId}\`, or start it again with --rerun`,
    );
  }

  /** A handle on an existing run (checked to exist). */
  async get(workflowId: string): Promise<RunHandle> {
    const handle = this.client.workflow.getHandle(workflowId);
    try {
      await handle.describe();
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw notFound(workflowId, this.settings);
      throw e;
    }
    return new RunHandle(handle, this.settings, this.client);
  }

  /**
   * Ask a running run to stop (the `cancel` signal). Throws a {@link RunnerError} if there is no
   * such run or it has already ended; nothing is changed then.
   */
  async cancel(workflowId: string, reason?: string): Promise<void> {
    const run = await this.get(workflowId);
    const d = await run.temporal.describe();
    if (d.status.name !== 'RUNNING') {
      // The run's own status (a cancelled run is a *completed* workflow in Temporal's terms).
      const status =
        d.status.name === 'COMPLETED' ? (d.typedSearchAttributes.get(AgentStatus) ?? 'completed') : d.status.name.toLowerCase();
      throw new RunnerError(`run "${workflowId}" has already ended (${status}): nothing to cancel`);
    }
    await run.temporal.signal(cancelSignal, reason ? { reason } : {});
  }

  /** The live state of a run (the `state` query). */
  async state(workflowId: string): Promise<RunState> {
    return (await this.get(workflowId)).temporal.query(stateQuery);
  }

  /** Runs, newest first, filtered by the search attributes the runs keep up to date. */
  async list(filter: ListFilter = {}): Promise<RunSummary[]> {
    const limit = filter.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1) throw new RunnerError('--limit must be a positive integer');
    if (filter.status && !RUN_STATUSES.includes(filter.status)) {
      throw new RunnerError(`--status must be one of ${RUN_STATUSES.join(', ')}`);
    }
    if (filter.agent !== undefined && !/^[a-zA-Z0-9_.-]{1,64}$/.test(filter.agent))
      throw new RunnerError(`invalid agent name "${filter.agent}"`);
    const clauses = [`WorkflowType = '${AGENT_WORKFLOW_TYPE}'`];
    if (filter.status) clauses.push(`AgentStatus = '${filter.status}'`);
    // A terminated run keeps AgentStatus 'running' (no workflow code ran): Temporal's status decides.
    if (filter.status === 'running') clauses.push("ExecutionStatus = 'Running'");
    if (filter.agent) clauses.push(`AgentName = '${filter.agent}'`);
    if (filter.minCostUsd !== undefined) {
      if (!Number.isFinite(filter.minCostUsd) || filter.minCostUsd < 0) throw new RunnerError('--min-cost-usd must be a number of dollars');
      clauses.push(`AgentCostUsd >= ${filter.minCostUsd}`);
    }
    const out: RunSummary[] = [];
    for await (const w of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(limit, 1000) })) {
      const sa = w.typedSearchAttributes;
      out.push({
        workflowId: w.workflowId,
        agent: sa.get(AgentName) ?? '',
        status: sa.get(AgentStatus) ?? w.status.name.toLowerCase(),
        turns: sa.get(AgentTurns) ?? 0,
        tokens: sa.get(AgentTokens) ?? 0,
        costUsd: sa.get(AgentCostUsd) ?? null,
        startTime: w.startTime,
        closeTime: w.closeTime,
        temporalStatus: w.status.name,
      });
      if (out.length >= limit) break;
    }
    return out.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  }

  /** Approve a tool call waiting in a run (the only one, or `toolUseId`). Refusals are one line. */
  approve(workflowId: string, opts: DecisionOptions = {}): Promise<DecideResult & { input: unknown }> {
    return decide(this.client, workflowId, 'approve', opts);
  }

  /** Deny a tool call waiting in a run; the model gets `is_error` with the reason. */
  deny(workflowId: string, opts: DecisionOptions & { reason: string }): Promise<DecideResult & { input: unknown }> {
    return decide(this.client, workflowId, 'deny', opts);
  }

  /** Tool calls waiting for approval, across runs. */
  pending(filter: { agent?: string; limit?: number } = {}): Promise<PendingCall[]> {
    return pendingCalls(this.client, filter);
  }

  /**
   * Send a session its next message and wait for that exchange's reply. With `agent`, a session
   * with this id is started if none runs (update-with-start).
   */
  send(workflowId: string, text: string, opts: { agent?: string; by?: string; idleTimeout?: string } = {}): Promise<SendResult> {
    return send(this.client, workflowId, text, { ...opts, taskQueue: this.settings.taskQueue });
  }

  /** End a session now. */
  endSession(workflowId: string, by?: string): Promise<void> {
    return endSession(this.client, workflowId, by);
  }

  /** Raise a run's budget by dollars and/or tokens; a run paused at its budget goes on if its next call fits. */
  raiseBudget(workflowId: string, args: BudgetArgs): Promise<BudgetResult> {
    return raiseBudget(this.client, workflowId, args);
  }

  /** A note for a working run, delivered with its next model call. */
  say(workflowId: string, text: string, by?: string): Promise<number> {
    return say(this.client, workflowId, text, by);
  }

  /** Close the connection if this runner opened it. */
  async close(): Promise<void> {
    if (this.ownsConnection) await this.client.connection.close();
  }
}
