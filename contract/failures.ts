/**
 * Every way a run can fail, in one place: the failure `type` Temporal records, whether Temporal
 * retries it, the one-line message, and what the user should do — for agent resolution, the
 * model call, the tool call and the run itself. Modelled on Restate's `errors.ts` (terminal and
 * retryable failures are distinct, named kinds) and the Anthropic SDK's error classes.
 *
 * | kind | `type` | retried | raised by |
 * |---|---|---|---|
 * | run input malformed | `InvalidRunInput` | no | the workflow's first task, `resolveAgent` |
 * | agent not served | `UnknownAgent` | no | `resolveAgent` |
 * | API refused the request (400/401/402/403/404/413/422, other 4xx) | `ModelRequestRejected` | no | `callModel` |
 * | API unavailable (408/409/429/5xx/529, connection, stream error, stall) | `ModelTemporarilyUnavailable` | yes (`retry-after` honoured) | `callModel` |
 * | a reply that cannot be acted on (incomplete tool JSON, duplicate `tool_use` ids) | `ModelOutputInvalid` | yes: the call is made again | `callModel` |
 * | no credentials on the worker | `ModelNotConfigured` | no | `callModel` |
 * | a tool handler threw (not `ToolError`) | `ToolFailed` | yes, per the tool's policy; then `is_error` | `runTool` |
 * | an MCP call failed in transport (connection lost, server gone, timeout, JSON-RPC internal error) | `ToolFailed` | yes, per the tool's policy; then `is_error` | `runTool` |
 * | an MCP server unreachable (or failing to list its tools) when the run starts | `McpServerUnavailable` | yes (a few attempts), then the run fails | `resolveAgent` |
 * | an MCP server definition that cannot work (env variable unset, allow-list naming tools it lacks, a name clash) | `McpServerMisconfigured` | no | `resolveAgent` |
 * | the run failed | `AgentRunFailed` (details: the partial `RunResult`) | no | the workflow |
 * | no valid structured output (attempts used up, or the run stopped first) | `StructuredOutputMissing` (details: the partial `RunResult`) | no | the workflow |
 *
 * What a tool call's failure tells the *model* (an `is_error` result, the run goes on) is here too:
 * {@link ToolErrorText}.
 *
 * Pure and workflow-safe: only `@temporalio/common`. The Anthropic SDK's errors are recognised by
 * their shape and their class `name` (the SDK sets it on every instance), not by `instanceof`, so
 * the workflow bundle never loads the SDK.
 */
import { ActivityFailure, ApplicationFailure, RetryState, TemporalFailure, TimeoutFailure } from '@temporalio/common';

/** One kind of failure: how Temporal records it and whether it retries. */
export interface FailureKind {
  /** `ApplicationFailure.type`: what `nonRetryableErrorTypes` and the UI show. */
  readonly type: string;
  /** Whether Temporal retries the activity (per its retry policy). */
  readonly retried: boolean;
  /** What the user should do, as the end of a one-line message. */
  readonly remedy: string;
}

/** The catalog: every failure type the runner defines. */
export const Failures = {
  invalidRunInput: { type: 'InvalidRunInput', retried: false, remedy: 'fix the run input and start it again' },
  unknownAgent: { type: 'UnknownAgent', retried: false, remedy: 'check the name, or start a worker that serves this agent' },
  modelRejected: {
    type: 'ModelRequestRejected',
    retried: false,
    remedy: 'fix what the message says; retrying the same request cannot succeed',
  },
  modelUnavailable: { type: 'ModelTemporarilyUnavailable', retried: true, remedy: 'nothing: the call is retried with backoff' },
  modelOutputInvalid: {
    type: 'ModelOutputInvalid',
    retried: true,
    remedy: 'nothing: the call is made again; no tool ever runs on a reply that cannot be read whole',
  },
  modelNotConfigured: {
    type: 'ModelNotConfigured',
    retried: false,
    remedy: 'set it (or ANTHROPIC_BASE_URL for a local server) and restart the worker',
  },
  toolFailed: {
    type: 'ToolFailed',
    retried: true,
    remedy: "nothing: retried per the tool's policy, then the model gets an is_error result",
  },
  runFailed: { type: 'AgentRunFailed', retried: false, remedy: 'read the error line; the partial transcript is in the failure details' },
  noStructuredOutput: {
    type: 'StructuredOutputMissing',
    retried: false,
    remedy: 'read the transcript (in the failure details) for what the model gave; loosen the schema, or allow more attempts',
  },
  mcpServerUnavailable: {
    type: 'McpServerUnavailable',
    retried: true,
    remedy: 'start the server, or fix its command or url in the agent definition',
  },
  mcpServerMisconfigured: {
    type: 'McpServerMisconfigured',
    retried: false,
    remedy: "fix the agent's mcpServers definition or the worker's environment, and restart the worker",
  },
} as const satisfies Record<string, FailureKind>;

/** Failure `type` of a run that failed: its details hold the partial `RunResult`. */
export const RUN_FAILED_TYPE = Failures.runFailed.type;

// ── Errors thrown by our own code, converted at the activity boundary ───────────────────────

/** A run's input or overrides are malformed. Never retried. */
export class InvalidRunInputError extends Error {
  override name = 'InvalidRunInputError';
}

/** The run names an agent this worker does not serve. Never retried. */
export class UnknownAgentError extends Error {
  override name = 'UnknownAgentError';
  constructor(agent: string, served: readonly string[]) {
    super(`unknown agent "${agent}": this worker serves ${served.map((n) => `"${n}"`).join(', ') || 'no agents'}`);
  }
}

/** An agent definition is invalid: found when a worker starts, which then exits with this line. */
export class AgentDefinitionError extends Error {
  override name = 'AgentDefinitionError';
}

/** The worker has no credentials for the Messages API. Never retried. */
export class ModelNotConfiguredError extends Error {
  override name = 'ModelNotConfiguredError';
  constructor() {
    super(`ANTHROPIC_API_KEY is not set on the worker: ${Failures.modelNotConfigured.remedy}`);
  }
}

/**
 * An MCP server could not be reached, or failed to list its tools, while a run's configuration
 * was resolved. Retried (a few attempts); then the run fails with this line.
 */
export class McpServerUnavailableError extends Error {
  override name = 'McpServerUnavailableError';
  constructor(agent: string, server: string, why: string) {
    super(
      `MCP server "${server}" of agent "${agent}" could not be reached (${oneLine(why, 200)}): ${Failures.mcpServerUnavailable.remedy}`,
    );
  }
}

/** An MCP server's definition cannot work on this worker (found when a run resolves it). Never retried. */
export class McpServerMisconfiguredError extends Error {
  override name = 'McpServerMisconfiguredError';
  constructor(agent: string, server: string, problem: string) {
    super(`MCP server "${server}" of agent "${agent}": ${oneLine(problem, 400)}: ${Failures.mcpServerMisconfigured.remedy}`);
  }
}

/** Resolution errors → their failure (retried only for an unreachable MCP server); anything else is rethrown (retried). */
export function resolutionFailure(err: unknown): ApplicationFailure {
  if (err instanceof McpServerUnavailableError)
    return ApplicationFailure.create({ type: Failures.mcpServerUnavailable.type, message: err.message });
  if (err instanceof McpServerMisconfiguredError)
    return ApplicationFailure.create({ type: Failures.mcpServerMisconfigured.type, message: err.message, nonRetryable: true });
  if (err instanceof UnknownAgentError)
    return ApplicationFailure.create({ type: Failures.unknownAgent.type, message: err.message, nonRetryable: true });
  if (err instanceof InvalidRunInputError)
    return ApplicationFailure.create({ type: Failures.invalidRunInput.type, message: err.message, nonRetryable: true });
  throw err;
}

// ── The model call ───────────────────────────────────────────────────────────────────────────

/** `retry-after` hints above this are capped, so one header cannot park a run for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

interface StatusRule {
  retried: boolean;
  hint: string;
}

/** HTTP status → what it means for the run. Statuses not listed: 5xx retried, other 4xx not. */
const BY_STATUS: Readonly<Record<number, StatusRule>> = {
  400: { retried: false, hint: 'the request was invalid; fix the agent definition or the conversation' },
  401: { retried: false, hint: 'the API key was rejected; check ANTHROPIC_API_KEY on the worker' },
  402: { retried: false, hint: 'billing problem on the Anthropic account' },
  403: { retried: false, hint: 'the API key may not use this model or feature' },
  404: { retried: false, hint: 'not found; check the model name and ANTHROPIC_BASE_URL' },
  408: { retried: true, hint: 'request timed out' },
  409: { retried: true, hint: 'conflict' },
  413: { retried: false, hint: 'the request is too large; shorten the conversation or tool results' },
  422: { retried: false, hint: 'the request could not be processed; fix the request' },
  429: { retried: true, hint: 'rate limited' },
  529: { retried: true, hint: 'the API is overloaded' },
};

/** Error `type`s that arrive inside an SSE stream (no HTTP status) and are worth another attempt. */
const RETRIED_STREAM_TYPES: ReadonlySet<string> = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/** The fields of the SDK's `APIError` the classification reads. */
interface SdkApiError {
  name: string;
  message: string;
  status: number | undefined;
  headers: Headers | undefined;
  type?: string | null;
  apiMessage?: string | null;
  requestID?: string | null;
}

function isSdkApiError(e: unknown): e is SdkApiError {
  return e instanceof Error && 'status' in e && 'headers' in e && 'requestID' in e;
}

/** A model reply the loop cannot act on (e.g. a stream cut inside a `tool_use` input): the call is made again. */
export class ModelOutputInvalidError extends Error {
  override name = 'ModelOutputInvalidError';
}

/**
 * Convert anything the model call threw into its `ApplicationFailure` (never throws itself).
 * Messages and details are passed through `redact` (an API proxy may echo the key in its error
 * body), and the SDK error is not attached as the cause: its message and stack would carry the
 * unredacted body into history.
 */
export function modelFailure(err: unknown, redact: (text: string) => string = redactKeys): ApplicationFailure {
  const failure = classifyModelError(err);
  if (err instanceof ApplicationFailure) return failure;
  return ApplicationFailure.create({
    type: failure.type ?? Failures.modelUnavailable.type,
    message: redact(failure.message),
    nonRetryable: failure.nonRetryable === true,
    details: (failure.details ?? []).map((d) => JSON.parse(redact(JSON.stringify(d))) as unknown),
    ...(failure.nextRetryDelay !== undefined && { nextRetryDelay: failure.nextRetryDelay }),
  });
}

function classifyModelError(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ModelOutputInvalidError) {
    return ApplicationFailure.create({ type: Failures.modelOutputInvalid.type, message: err.message });
  }
  if (err instanceof ModelNotConfiguredError) {
    return ApplicationFailure.create({ type: Failures.modelNotConfigured.type, nonRetryable: true, message: err.message });
  }
  if (isSdkApiError(err)) {
    if (err.name === 'APIUserAbortError') {
      // Aborted without the activity being cancelled (the attempt's own deadline): try again.
      return modelRetried(`model request aborted: ${oneLine(err.message)}`);
    }
    if (err.name === 'APIConnectionError' || err.name === 'APIConnectionTimeoutError') {
      return modelRetried(`could not reach the Anthropic API (${oneLine(err.message)})`);
    }
    const details = [{ status: err.status ?? null, type: err.type ?? null, requestId: err.requestID ?? null }];
    if (err.status === undefined) {
      // An `event: error` in the middle of a stream: classify by the body's type.
      const message = `model stream failed: ${err.type ?? 'error'}: ${oneLine(err.apiMessage ?? err.message)}`;
      return RETRIED_STREAM_TYPES.has(err.type ?? '')
        ? ApplicationFailure.create({ type: Failures.modelUnavailable.type, message, details })
        : ApplicationFailure.create({ type: Failures.modelRejected.type, nonRetryable: true, message, details });
    }
    const rule = BY_STATUS[err.status] ?? { retried: err.status >= 500, hint: err.status >= 500 ? 'server error' : 'request rejected' };
    const message = `Anthropic API ${err.status}${err.type ? ` ${err.type}` : ''}: ${oneLine(err.apiMessage ?? err.message)} (${rule.hint})`;
    if (!rule.retried) return ApplicationFailure.create({ type: Failures.modelRejected.type, nonRetryable: true, message, details });
    const delay = retryAfterMs(err.headers);
    return ApplicationFailure.create({
      type: Failures.modelUnavailable.type,
      message,
      details,
      ...(delay !== undefined && { nextRetryDelay: delay }),
    });
  }
  // Anything else mid-call (a stream that ended early, a socket error): another attempt may work.
  const e = err instanceof Error ? err : new Error(String(err));
  return modelRetried(`model call failed: ${oneLine(e.message)}`);
}

function modelRetried(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: Failures.modelUnavailable.type, message });
}

/** `retry-after-ms` (milliseconds) wins over `retry-after` (seconds or an HTTP date); capped. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  let ms: number | undefined;
  const msHeader = headers.get('retry-after-ms');
  if (msHeader && Number.isFinite(Number(msHeader))) ms = Number(msHeader);
  const header = headers.get('retry-after');
  if (ms === undefined && header) {
    const secs = Number(header);
    if (Number.isFinite(secs)) ms = secs * 1000;
    else {
      const at = Date.parse(header);
      if (!Number.isNaN(at)) ms = at - now;
    }
  }
  if (ms === undefined || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

// ── The tool call ────────────────────────────────────────────────────────────────────────────

/** A tool handler threw something other than `ToolError`: retried per the tool's policy. */
export function toolFailure(tool: string, err: unknown, redact: (text: string) => string = redactKeys): ApplicationFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({
    type: Failures.toolFailed.type,
    message: redact(`${tool}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${oneLine(e.message)}`),
    details: [{ tool, errorClass: e.name || 'Error' }],
    cause: redactedError(e, redact),
  });
}

/**
 * JSON-RPC errors with which an MCP server refuses the call itself (malformed, unknown method,
 * invalid arguments): retrying the same call cannot succeed, so the model gets an `is_error`
 * result. Every other error code (internal error, connection closed, request timeout, a
 * server's own codes) is a transport or server failure, retried per the tool's policy.
 */
const MCP_REFUSAL_CODES: ReadonlySet<number> = new Set([-32700, -32600, -32601, -32602]);

/**
 * What an MCP call's error means: `{ isError }` (the text the model gets, no retry) for a refusal,
 * else the retried `ToolFailed` failure. Errors are recognised by shape (the SDK's `McpError` has
 * a numeric `code` and its `name`), so this module stays free of the MCP SDK. Messages pass
 * through `redact`: a server may echo a request header in an error body.
 */
export function mcpCallFailure(
  tool: string,
  server: string,
  err: unknown,
  redact: (text: string) => string = redactKeys,
): { isError: string } | ApplicationFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  if (e.name === 'McpError' && typeof code === 'number' && MCP_REFUSAL_CODES.has(code)) {
    return { isError: redact(ToolErrorText.mcpRefused(tool, server, oneLine(e.message))) };
  }
  const wrapped = new Error(`MCP server "${server}": ${e.message}`);
  wrapped.name = e.name;
  wrapped.stack = `${e.name}: ${wrapped.message}\n${(e.stack ?? '').split('\n').slice(1).join('\n')}`;
  return toolFailure(tool, wrapped, redact);
}

/** A copy of an error (name, message, stack) with secrets redacted: safe to record as a cause. */
function redactedError(e: Error, redact: (text: string) => string): Error {
  const copy = new Error(redact(e.message));
  copy.name = e.name;
  copy.stack = redact(e.stack ?? '');
  return copy;
}

/** What the model reads in an `is_error` tool result, for each way a call can fail. */
export const ToolErrorText = {
  unknownTool: (name: string, available: readonly string[]) =>
    `Unknown tool "${name}". Available tools: ${available.join(', ') || 'none'}.`,
  invalidInput: (name: string, problems: string) => `Invalid input for tool ${name}: ${problems}`,
  unserialisable: (name: string, why: string) => `Tool ${name} returned a value that is not JSON-serialisable (${why}).`,
  cancelled: (name: string) => `Tool ${name} was cancelled: the run was cancelled before it finished.`,
  denied: (name: string, reason: string, by?: string) => `Tool ${name} was not run: a person denied it${by ? ` (${by})` : ''}: ${reason}`,
  approvalTimedOut: (name: string, timeout: string) =>
    `Tool ${name} was not run: it needs a person's approval and none came within ${timeout}. Tell the user it is waiting for approval, or do without it.`,
  exhausted: (name: string, attempts: number, why: string) => `Tool ${name} failed after ${attempts} attempt(s): ${why}`,
  mcpRefused: (name: string, server: string, why: string) => `Tool ${name}: MCP server "${server}" refused the call: ${why}`,
  mcpServerUnknown: (name: string, server: string) =>
    `Tool ${name} was not run: its MCP server "${server}" is not configured on this worker.`,
} as const;

// ── The run ──────────────────────────────────────────────────────────────────────────────────

/**
 * One line saying why an activity failed, as the workflow sees it: the activity's own message
 * (not the generic "Activity task failed"), plus why Temporal stopped retrying.
 */
export function failureLine(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    let msg: string;
    if (cause instanceof TimeoutFailure) msg = `timed out (${(cause.timeoutType ?? 'unknown').toLowerCase().replaceAll('_', '-')} timeout)`;
    else if (cause instanceof TemporalFailure || cause instanceof Error) msg = cause.message;
    else msg = err.message;
    const gaveUp =
      err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED
        ? ' (retries exhausted)'
        : err.retryState === RetryState.TIMEOUT
          ? ' (retry time limit reached)'
          : '';
    return `${msg}${gaveUp}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The failure a failed run ends with: red in the UI, its partial result in the details. */
export function runFailure(message: string, partialResult: unknown, type: string = RUN_FAILED_TYPE): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: [partialResult] });
}

/** Anything shaped like an Anthropic API key (`sk-ant-…`). */
const KEY_SHAPED = /sk-ant-[A-Za-z0-9_-]{6,}/g;

/** Replace these secrets, and anything shaped like an Anthropic API key, with `[redacted]`. */
export function redactKeys(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('[redacted]');
  return out.replace(KEY_SHAPED, '[redacted]');
}

/** Collapse whitespace and cap the length: failure messages are one line. */
export function oneLine(s: string, max = 300): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
