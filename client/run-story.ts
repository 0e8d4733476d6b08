/**
 * A run's story, told from its Temporal history: each model turn (model, stop reason, tokens),
 * each tool call (name, input, result or error, duration, attempts), cancellation, the end.
 * `agent-runner watch` and `show` feed it events as they arrive.
 */
import { defaultPayloadConverter, type Client } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { ActivityNames, type ModelCallInput, type ModelCallResult, type ToolCallInput } from '../contract/activities.js';
import type { ToolResultBlockParam } from '../contract/messages.js';
import type { RunConfig, RunPricing } from '../contract/config.js';
import { addBilled, billedUsage, callCost, formatUsd } from '../contract/prices.js';
import { OUTPUT_ACCEPTED, OUTPUT_NUDGE_START } from '../contract/output-schema.js';
import type { RunInput, RunResult } from '../contract/run.js';
import type { BudgetResult, DecideResult } from '../contract/workflow.js';
import { assistantTextLines, citationLines, clip, labelled, oneLine, reason, serverToolLines } from './format.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Failure = temporal.api.failure.v1.IFailure;

const I = '    ';

/** Decode Temporal payloads with a client's data converter (codecs included). */
export async function decodePayloads(converter: LoadedDataConverter, payloads: Payloads): Promise<unknown[]> {
  let list = (payloads?.payloads ?? []) as temporal.api.common.v1.IPayload[];
  for (const codec of [...converter.payloadCodecs].reverse()) list = await codec.decode(list);
  return list.map((p) => converter.payloadConverter.fromPayload(p));
}

/**
 * A failure's message. With encryption on, workers store "Encoded failure" and put the real
 * message (and stack trace) in `encodedAttributes`, a payload the client's codecs decode.
 */
export async function failureMessage(converter: LoadedDataConverter, f: Failure | null | undefined): Promise<string | undefined> {
  if (!f) return undefined;
  if (f.encodedAttributes) {
    let why = '';
    const [attrs] = (await decodePayloads(converter, { payloads: [f.encodedAttributes] }).catch((e: unknown) => {
      why = e instanceof Error ? e.message : String(e);
      return [];
    })) as [{ message?: unknown }?];
    if (typeof attrs?.message === 'string') return attrs.message;
    // Encrypted with a key this client lacks: that is the news (its codecs differ from the writer's).
    if (why) return `an encoded failure this client cannot read (${why})`;
  }
  return f.message ?? undefined;
}

function ms(t: HistoryEvent['eventTime']): number {
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

function blockText(c: ToolResultBlockParam['content']): string {
  if (c === undefined) return '';
  return typeof c === 'string' ? c : c.map((b) => (b.type === 'text' ? b.text : `[${b.type}]`)).join(' ');
}

interface Pending {
  type: string;
  scheduledAt: number;
  input: unknown;
  attempt: number;
}

/** Turns history events into lines; keeps what it needs between calls. */
export class RunStory {
  private readonly pending = new Map<number, Pending>();
  /** The last model turn's tool calls, and the ids whose tool activity has been scheduled. */
  private lastToolUses: { id: string; name: string; input: unknown }[] = [];
  private readonly scheduledTools = new Set<string>();
  /** Sub-agents' child runs by their initiated event id. */
  private readonly children = new Map<number, { agent: string; workflowId: string; at: number }>();
  /** Accepted updates by id: name and arguments, for the line their completion writes. */
  private readonly updates = new Map<string, { name: string; args: unknown }>();
  /** The prices the run is billed at (from its resolved configuration), for each turn's cost. */
  private pricing: RunPricing | undefined;
  /** The run's structured-output tool (from its configuration), and the last turn's calls of it. */
  private outputTool: string | undefined;
  private outputCalls: string[] = [];
  /** The run's result once the history shows it closed. */
  result: RunResult | undefined;
  /** How the run closed: completed, failed, cancelled, terminated, timed out. */
  closed: 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | undefined;
  closeMessage = '';

  constructor(private readonly converter: LoadedDataConverter) {}

  /** A story for a client (using its data converter). */
  static for(client: Client): RunStory {
    return new RunStory(client.options.loadedDataConverter);
  }

  /** Lines for one event (often none). */
  async lines(e: HistoryEvent): Promise<string[]> {
    const id = Number(e.eventId);
    const at = ms(e.eventTime);
    if (e.workflowExecutionStartedEventAttributes) {
      const [input] = (await decodePayloads(this.converter, e.workflowExecutionStartedEventAttributes.input)) as [RunInput | undefined];
      if (input?.carry) return [`── execution ${input.carry.execution} (continued as new after turn ${input.carry.turns})`];
      const prompt = input?.prompt ?? (input?.messages ? `(${input.messages.length} initial messages)` : undefined);
      const what = input?.session ? 'session' : 'run';
      return [`${what} of agent "${oneLine(input?.agent ?? '?')}"`, ...(prompt === undefined ? [] : labelled('user: ', prompt))];
    }
    const people = await this.peopleLines(e);
    if (people) return people;
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      // A local activity: its type in the marker's JSON data, its result in `result`.
      const data = marker.details?.data?.payloads?.[0]?.data;
      let type: string | undefined;
      try {
        type = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type : undefined;
      } catch {
        type = undefined; // not a marker this story reads
      }
      if (type === ActivityNames.resolveAgent && marker.details?.result) {
        const [config] = (await decodePayloads(this.converter, marker.details.result)) as [RunConfig | undefined];
        this.configured(config);
      }
      return [];
    }
    const child = await this.childLines(e, id, at);
    if (child) return child;
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const [input] = await decodePayloads(this.converter, scheduled.input);
      if (scheduled.activityType?.name === ActivityNames.runTool) this.scheduledTools.add((input as ToolCallInput).toolUse.id);
      this.pending.set(id, { type: scheduled.activityType?.name ?? '', scheduledAt: at, input, attempt: 1 });
      return scheduled.activityType?.name === ActivityNames.callModel ? this.outputVerdicts(input as ModelCallInput) : [];
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const p = this.pending.get(Number(started.scheduledEventId));
      if (p) p.attempt = started.attempt ?? 1;
      return [];
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) {
      const p = this.take(completed.scheduledEventId);
      if (!p) return [];
      const [value] = await decodePayloads(this.converter, completed.result);
      return this.completedLines(p, value, at);
    }
    const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (failed) {
      const p = this.take(failed.scheduledEventId);
      if (!p || p.type === ActivityNames.resolveAgent) return [];
      const why = clip(
        (await failureMessage(this.converter, failed.failure?.cause)) || (await failureMessage(this.converter, failed.failure)) || 'failed',
        200,
      );
      return [`${I}✗ ${this.what(p)} failed after ${p.attempt} attempt(s) (${this.took(p, at)}): ${why}`];
    }
    // Activities are cancelled with TRY_CANCEL: the request is the last event most of them get.
    const cancelRequested = e.activityTaskCancelRequestedEventAttributes;
    if (cancelRequested) {
      const p = this.take(cancelRequested.scheduledEventId);
      return p ? [`${I}✗ ${this.what(p)} cancelled after ${this.took(p, at)}`] : [];
    }
    const canceled = e.activityTaskCanceledEventAttributes;
    if (canceled) {
      const p = this.take(canceled.scheduledEventId);
      return p ? [`${I}✗ ${this.what(p)} cancelled (${this.took(p, at)})`] : [];
    }
    if (e.workflowExecutionSignaledEventAttributes?.signalName === 'cancel') {
      const [arg] = (await decodePayloads(this.converter, e.workflowExecutionSignaledEventAttributes.input)) as [
        { reason?: string } | undefined,
      ];
      return [`cancel requested${arg?.reason ? `: ${reason(arg.reason)}` : ''}`];
    }
    if (e.workflowExecutionCancelRequestedEventAttributes) return ['cancel requested via Temporal'];
    if (e.workflowExecutionContinuedAsNewEventAttributes) return []; // the next execution's start says it
    return this.closeLines(e);
  }

  /**
   * People in the story: a call starting to wait for approval (the search attribute turns to
   * `awaiting_approval`), decisions (who, after how long, why), a session's messages, notes, the
   * end of a session, and waits that timed out. Undefined for other events.
   */
  private async peopleLines(e: HistoryEvent): Promise<string[] | undefined> {
    const upsert = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.AgentStatus;
    if (upsert) {
      const status = defaultPayloadConverter.fromPayload<string>(upsert);
      if (status === 'awaiting_approval') {
        const waiting = this.lastToolUses.filter((t) => !this.scheduledTools.has(t.id));
        return waiting.map((t) => `${I}⏸ awaiting approval: ${oneLine(t.name)} ${clip(JSON.stringify(t.input), 120)} (${oneLine(t.id)})`);
      }
      if (status === 'awaiting_budget') return [`${I}⏸ paused at the budget: raise it with \`agent-runner budget <id> --add-usd …\``];
      return [];
    }
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted) {
      const input = accepted.acceptedRequest?.input;
      const [args] = (await decodePayloads(this.converter, input?.args)) as [Record<string, string | undefined> | undefined];
      const name = input?.name ?? '';
      this.updates.set(accepted.acceptedRequest?.meta?.updateId ?? '', { name, args });
      const who = args?.by ? ` (${oneLine(args.by)})` : '';
      if (name === 'send') return labelled(`user${who}: `, args?.text ?? '');
      if (name === 'say') return labelled(`note${who}: `, args?.text ?? '');
      if (name === 'end') return [`session ended${who}`];
      return [];
    }
    const done = e.workflowExecutionUpdateCompletedEventAttributes;
    if (done) {
      const update = this.updates.get(done.meta?.updateId ?? '');
      if (update?.name === 'budget' && done.outcome?.success) {
        const [r] = (await decodePayloads(this.converter, done.outcome.success)) as [BudgetResult | undefined];
        const args = update.args as { addUsd?: number; addTokens?: number; by?: string } | undefined;
        const added = [
          args?.addUsd !== undefined && `+${formatUsd(args.addUsd)}`,
          args?.addTokens !== undefined && `+${args.addTokens} tokens`,
        ];
        const now = [
          r?.maxCostUsd !== undefined && formatUsd(r.maxCostUsd),
          r?.maxTotalTokens !== undefined && `${r.maxTotalTokens} tokens`,
        ];
        return [
          `${I}$ budget raised ${added.filter(Boolean).join(' ')}${args?.by ? ` by ${oneLine(args.by)}` : ''}, now ${now.filter(Boolean).join(' and ')}`,
        ];
      }
      if (update?.name !== 'decide' || !done.outcome?.success) return [];
      const [r] = (await decodePayloads(this.converter, done.outcome.success)) as [DecideResult | undefined];
      const args = update.args as { reason?: string; by?: string } | undefined;
      if (!r) return [];
      const verb = r.decision === 'approve' ? '✓ approved' : '✗ denied';
      const waited = r.waitedMs >= 1000 ? `${(r.waitedMs / 1000).toFixed(1)} s` : `${r.waitedMs} ms`;
      return [
        `${I}${verb}: ${oneLine(r.tool)} (${oneLine(r.toolUseId)})${args?.by ? ` by ${oneLine(args.by)}` : ''} after ${waited}${args?.reason ? `: ${reason(args.reason)}` : ''}`,
      ];
    }
    if (e.timerFiredEventAttributes) return [`${I}⌛ a wait ran out (an approval not given in time, or a session idle too long)`];
    return undefined;
  }

  /** Sub-agents (agents offered as tools) run as child workflows: their start and their answer. */
  private async childLines(e: HistoryEvent, id: number, at: number): Promise<string[] | undefined> {
    const initiated = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (initiated) {
      const [input] = (await decodePayloads(this.converter, initiated.input)) as [RunInput | undefined];
      const agent = oneLine(input?.agent ?? '?');
      this.children.set(id, { agent, workflowId: initiated.workflowId ?? '', at });
      this.scheduledTools.add(input?.parent?.toolUseId ?? '');
      return [
        `${I}→ agent ${agent}, as a sub-agent: ${clip(JSON.stringify(input?.prompt ?? ''), 120)}`,
        `${I}  (its own run: ${oneLine(initiated.workflowId ?? '')}; follow it with agent-runner watch)`,
      ];
    }
    const done = e.childWorkflowExecutionCompletedEventAttributes;
    const closed =
      done ??
      e.childWorkflowExecutionFailedEventAttributes ??
      e.childWorkflowExecutionCanceledEventAttributes ??
      e.childWorkflowExecutionTimedOutEventAttributes ??
      e.childWorkflowExecutionTerminatedEventAttributes ??
      e.startChildWorkflowExecutionFailedEventAttributes;
    if (!closed) return undefined;
    const c = this.children.get(Number(closed.initiatedEventId));
    if (!c) return [];
    const took = duration(at - c.at);
    if (done) {
      const [r] = (await decodePayloads(this.converter, done.result)) as [RunResult | undefined];
      const cost = r?.cost ? ` · ${formatUsd(r.cost.usd)}` : '';
      const status = r?.status === 'completed' ? '' : ` (${oneLine(r?.status ?? '?')}${r?.error ? `: ${clip(r.error, 120)}` : ''})`;
      return [`${I}← agent ${c.agent}${status}: ${clip(r?.finalText ?? '', 240)} (${took}, ${r?.turns ?? 0} turn(s)${cost})`];
    }
    const failure = e.childWorkflowExecutionFailedEventAttributes?.failure;
    const why = failure
      ? clip(await failureMessage(this.converter, failure), 200)
      : e.childWorkflowExecutionCanceledEventAttributes
        ? 'cancelled'
        : 'did not finish';
    return [`${I}✗ agent ${c.agent} ${why === 'cancelled' ? 'was cancelled' : `failed: ${why}`} (${took})`];
  }

  private take(scheduledEventId: unknown): Pending | undefined {
    const key = Number(scheduledEventId);
    const p = this.pending.get(key);
    this.pending.delete(key);
    return p;
  }

  private what(p: Pending): string {
    if (p.type === ActivityNames.runTool) {
      const t = (p.input as ToolCallInput).toolUse;
      return `tool ${oneLine(t.name)} ${clip(JSON.stringify(t.input), 120)}`;
    }
    if (p.type === ActivityNames.callModel) return `model call (turn ${(p.input as { turn: number }).turn})`;
    return p.type;
  }

  private took(p: Pending, at: number): string {
    return duration(at - p.scheduledAt);
  }

  private completedLines(p: Pending, value: unknown, at: number): string[] {
    const stats = `${this.took(p, at)}, ${p.attempt} attempt${p.attempt === 1 ? '' : 's'}`;
    if (p.type === ActivityNames.resolveAgent) this.configured(value as RunConfig | undefined);
    if (p.type === ActivityNames.callModel) {
      const { message: m, failedAttempts, rateLimit } = value as ModelCallResult;
      const turn = (p.input as { turn: number }).turn;
      const out = [
        `── turn ${turn} · ${oneLine(m.model)} · ${oneLine(m.stop_reason)} · ${this.spend(value as ModelCallResult)} (${stats})`,
      ];
      if (failedAttempts) out.push(`${I}(${failedAttempts.attempts} failed attempt(s) billed: included above)`);
      if (rateLimit) out.push(`${I}rate limit: ${rateLimitLine(rateLimit)}`);
      this.lastToolUses = m.content.flatMap((b) => (b.type === 'tool_use' ? [{ id: b.id, name: b.name, input: b.input }] : []));
      let afterText = false;
      for (const b of m.content) {
        const continues = afterText;
        afterText = b.type === 'text';
        const server = serverToolLines(b);
        if (server) out.push(...server);
        else if (b.type === 'text') out.push(...assistantTextLines(b.text, continues), ...citationLines(b));
        else if (b.type === 'thinking') out.push(`${I}(thinking: ${clip(b.thinking, 100)})`);
        else if (b.type === 'redacted_thinking') out.push(`${I}(redacted thinking)`);
        else if (b.type === 'tool_use' && b.name === this.outputTool)
          out.push(`${I}→ tool ${oneLine(b.name)} ${clip(JSON.stringify(b.input), 200)}`);
      }
      this.outputCalls = this.lastToolUses.filter((t) => t.name === this.outputTool).map((t) => t.id);
      return out;
    }
    if (p.type === ActivityNames.runTool) {
      const r = value as ToolResultBlockParam;
      const mark = r.is_error ? `✗ error: ${clip(blockText(r.content), 240)}` : `← ${clip(blockText(r.content), 240)}`;
      return [`${I}→ ${this.what(p)} (${stats})`, `${I}  ${mark}`];
    }
    return [];
  }

  /** A turn's tokens and, when the run has prices, its cost (failed attempts the API billed included). */
  private spend(r: ModelCallResult): string {
    const u = r.message.usage;
    const cache =
      u.cache_read_input_tokens || u.cache_creation_input_tokens
        ? `, cache ${u.cache_read_input_tokens ?? 0} read / ${u.cache_creation_input_tokens ?? 0} written`
        : '';
    const tokens = `${u.input_tokens} in / ${u.output_tokens} out tokens${cache}`;
    const price = this.pricing?.price;
    if (!this.pricing) return tokens;
    if (!price) return tokens; // the summary says once that the model has no price
    const billed = r.failedAttempts ? addBilled(billedUsage(u), billedUsage(r.failedAttempts.usage)) : billedUsage(u);
    return `${tokens} · ${formatUsd(callCost(billed, price, this.pricing.serverTools))}`;
  }

  /** What the run learns from its configuration: its prices, its structured-output tool. */
  private configured(config: RunConfig | undefined): void {
    this.pricing = config?.pricing;
    this.outputTool = config?.output?.tool;
  }

  /**
   * A structured-output call is answered in the workflow, with no activity: its verdict shows in
   * the next model call's input (a rejection, or the runner asking again after a turn ended
   * without one), or in the result (accepted).
   */
  private outputVerdicts(input: ModelCallInput | undefined): string[] {
    if (!this.outputTool) return [];
    const last = input?.request.messages.at(-1);
    if (last?.role !== 'user') return [];
    if (typeof last.content === 'string')
      return last.content.startsWith(OUTPUT_NUDGE_START) ? labelled('user (runner): ', last.content) : [];
    const out: string[] = [];
    for (const b of last.content) {
      if (b.type === 'tool_result' && this.outputCalls.includes(b.tool_use_id))
        out.push(`${I}  ${b.is_error ? '✗ error: ' : '← '}${clip(blockText(b.content), 240)}`);
    }
    this.outputCalls = [];
    return out;
  }

  private async closeLines(e: HistoryEvent): Promise<string[]> {
    const done = e.workflowExecutionCompletedEventAttributes;
    if (done) {
      const [r] = (await decodePayloads(this.converter, done.result)) as [RunResult];
      this.result = r;
      this.closed = r.status === 'cancelled' ? 'cancelled' : 'completed';
      if (r.status === 'cancelled') return [`run cancelled: ${reason(r.error ?? '')}`];
      if (r.output === undefined) return labelled('final answer: ', r.finalText);
      // Structured output: the accepted call, then the answer's text if it had any (the output itself closes the summary).
      return [
        ...(this.outputCalls.length ? [`${I}  ← ${OUTPUT_ACCEPTED}`] : []),
        ...(r.finalText ? labelled('final answer: ', r.finalText) : []),
      ];
    }
    const failed = e.workflowExecutionFailedEventAttributes;
    if (failed) {
      this.closed = 'failed';
      this.closeMessage = (await failureMessage(this.converter, failed.failure)) ?? 'failed';
      const details = failed.failure?.applicationFailureInfo?.details;
      const [partial] = details ? ((await decodePayloads(this.converter, details)) as [RunResult | undefined]) : [undefined];
      if (partial) this.result = { ...partial, status: 'failed', error: this.closeMessage };
      return [`run failed: ${reason(this.closeMessage)}`];
    }
    const terminated = e.workflowExecutionTerminatedEventAttributes;
    if (terminated) {
      this.closed = 'terminated';
      this.closeMessage = terminated.reason || 'terminated';
      return [`run terminated: ${reason(this.closeMessage)}`];
    }
    if (e.workflowExecutionTimedOutEventAttributes) {
      this.closed = 'timed_out';
      this.closeMessage = 'the run hit its workflow timeout';
      return [`run timed out`];
    }
    return [];
  }
}

/** The rate-limit headers that matter, compactly: what is left of each limit. */
function rateLimitLine(h: Record<string, string>): string {
  const parts = ['requests', 'tokens', 'input-tokens', 'output-tokens'].flatMap((k) => {
    const left = h[`${k}-remaining`];
    const limit = h[`${k}-limit`];
    return left === undefined ? [] : [`${oneLine(k)} ${oneLine(left)}${limit ? `/${oneLine(limit)}` : ''} left`];
  });
  return parts.join(', ') || 'reported';
}

/** A duration for people: `240 ms`, or `3.4 s` from a second on. */
function duration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
