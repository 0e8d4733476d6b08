/**
 * Tool calls that wait for a person: each waits, alone, for the `decide` update — approve or deny,
 * bound to its `tool_use_id` and the hash of the input the person saw — or for its deadline. The
 * other calls of the turn run meanwhile. Waiting costs nothing: no activity, no polling, only a
 * timer for the deadline; it survives worker and server restarts and continue-as-new (the
 * deadlines are carried over).
 *
 * The update's validator refuses, in one line and without touching history, a malformed
 * decision, an unknown id, a call already decided and a stale input hash.
 */
import { setHandler } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { inputHash } from '../contract/hash.js';
import type { ToolUseBlock } from '../contract/messages.js';
import type { PendingApproval } from '../contract/run.js';
import { decideUpdate, type DecideArgs, type DecideResult } from '../contract/workflow.js';
import { waitUntil } from './wait.js';

/** A decision as the waiting call reads it. */
export interface Decision {
  approved: boolean;
  reason: string;
  by?: string;
  /** No decision came before the deadline. */
  timedOut?: true;
}

interface Waiting {
  call: ToolUseBlock;
  hash: string;
  requestedAt: number;
  deadline: number;
  decision?: Decision;
}

const MAX_REASON = 2000;

/** The run's calls waiting for approval, and the `decide` update that ends their wait. */
export class Approvals {
  private readonly waiting = new Map<string, Waiting>();
  /** Calls decided in this execution, for the "already decided" line. */
  private readonly decided = new Map<string, string>();

  /**
   * `carried`: the calls a previous execution handed over while they waited. They are waiting from
   * the first moment, so a decision that arrives before the turn resumes is accepted and kept.
   */
  constructor(
    private readonly onChange: () => void,
    carried: { call: ToolUseBlock; requestedAt: number; timeout: string }[] = [],
  ) {
    for (const c of carried) this.waiting.set(c.call.id, this.entry(c.call, c.timeout, c.requestedAt));
    setHandler(decideUpdate, (args) => this.decide(args), { validator: (args) => this.validate(args) });
  }

  private entry(call: ToolUseBlock, timeout: string, requestedAt: number): Waiting {
    return { call, hash: inputHash(call.input), requestedAt, deadline: requestedAt + msToNumber(timeout) };
  }

  /** The calls waiting now, as the `state` query shows them. */
  pending(): PendingApproval[] {
    return [...this.waiting.values()]
      .filter((w) => !w.decision)
      .map((w) => ({
        toolUseId: w.call.id,
        tool: w.call.name,
        input: w.call.input,
        inputHash: w.hash,
        requestedAt: new Date(w.requestedAt).toISOString(),
        deadline: new Date(w.deadline).toISOString(),
      }));
  }

  /** How many calls wait for a decision. */
  get size(): number {
    return this.pending().length;
  }

  /**
   * Wait for a decision on `call` until its deadline (`requestedAt` + `timeout`; both carried over
   * when a run continues as new while a call waits). Resolves denied when the deadline passes; a
   * cancelled run's wait throws the cancellation.
   */
  async wait(call: ToolUseBlock, timeout: string, requestedAt = Date.now()): Promise<Decision> {
    const w = this.waiting.get(call.id) ?? this.entry(call, timeout, requestedAt);
    this.waiting.set(call.id, w);
    this.onChange();
    try {
      const decided = await waitUntil(() => w.decision !== undefined, w.deadline - Date.now(), `approval: ${call.name} (${call.id})`);
      return decided && w.decision ? w.decision : { approved: false, reason: `no decision within ${timeout}`, timedOut: true };
    } finally {
      this.waiting.delete(call.id);
      this.onChange();
    }
  }

  private validate(args: unknown): void {
    if (typeof args !== 'object' || args === null)
      throw new Error('a decision is { toolUseId, decision: "approve" | "deny", inputHash, reason?, by? }');
    const a = args as Partial<Record<keyof DecideArgs, unknown>>;
    if (typeof a.toolUseId !== 'string' || a.toolUseId === '') throw new Error('toolUseId must be the tool_use id of the call');
    if (a.decision !== 'approve' && a.decision !== 'deny') throw new Error('decision must be "approve" or "deny"');
    if (typeof a.inputHash !== 'string') throw new Error('inputHash must be the hash of the input you approve (see the state query)');
    for (const k of ['reason', 'by'] as const) {
      if (a[k] !== undefined && (typeof a[k] !== 'string' || (a[k] as string).length > MAX_REASON))
        throw new Error(`${k} must be a string of at most ${MAX_REASON} characters`);
    }
    const already = this.decided.get(a.toolUseId);
    if (already) throw new Error(`tool call ${a.toolUseId} was already decided (${already}): nothing changed`);
    const w = this.waiting.get(a.toolUseId);
    if (!w || w.decision) {
      const ids = this.pending().map((p) => p.toolUseId);
      throw new Error(
        `no tool call awaits approval with id ${a.toolUseId}${ids.length ? ` (waiting: ${ids.join(', ')})` : ' (none is waiting)'}`,
      );
    }
    if (a.inputHash !== w.hash) {
      throw new Error(
        `stale decision: the input of ${a.toolUseId} has hash ${w.hash}, not ${a.inputHash}; look at the call again and decide on what it is now`,
      );
    }
  }

  private decide(args: DecideArgs): DecideResult {
    const w = this.waiting.get(args.toolUseId)!; // the validator checked it
    const approved = args.decision === 'approve';
    const reason = args.reason?.trim() || (approved ? 'approved' : 'denied');
    w.decision = { approved, reason, ...(args.by && { by: args.by }) };
    this.decided.set(args.toolUseId, `${approved ? 'approved' : 'denied'}${args.by ? ` by ${args.by}` : ''}`);
    this.onChange();
    return { toolUseId: w.call.id, tool: w.call.name, decision: args.decision, waitedMs: Date.now() - w.requestedAt };
  }
}
