/**
 * People in the loop, from the client: decisions on tool calls waiting for approval, a session's
 * messages (the first one may start it), notes that steer a working run, and the calls waiting
 * across runs. Each is a Temporal Update, so the caller learns at once whether it was accepted;
 * a refusal (unknown call, already decided, stale input, ended session) is one line.
 */
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { ParentRun, PendingApproval, RunState } from '../contract/run.js';
import { runInputProblem } from '../contract/run-input.js';
import { AgentName, AgentStatus } from '../contract/search-attributes.js';
import {
  AGENT_WORKFLOW_TYPE,
  budgetUpdate,
  decideUpdate,
  endUpdate,
  sayUpdate,
  sendUpdate,
  stateQuery,
  type BudgetArgs,
  type BudgetResult,
  type DecideResult,
  type SendResult,
} from '../contract/workflow.js';
import { RunnerError } from './errors.js';

/** What a person decides, and who they are. */
export interface DecisionOptions {
  /** The `tool_use_id` to decide on; may be left out when exactly one call waits. */
  toolUseId?: string;
  reason?: string;
  by?: string;
  /** The input hash the person saw (default: the waiting call's current one, which the command shows). */
  inputHash?: string;
}

/** One call waiting for approval, with its run. */
export interface PendingCall extends PendingApproval {
  workflowId: string;
  agent: string;
  /** For a sub-agent's run: the run that called it as a tool (and waits for its answer). */
  parent?: ParentRun;
}

/** Turn an update's refusal (its validator's line) into a RunnerError; other errors pass. */
async function asUpdate<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new RunnerError(`${workflowId}: ${e.cause?.message ?? e.message}`);
    if (e instanceof WorkflowNotFoundError)
      throw new RunnerError(`no live run with workflow id "${workflowId}" (it has ended, or never ran): nothing to decide or send`);
    const message = e instanceof Error ? e.message : String(e);
    if (/workflow execution already completed|not found/i.test(message))
      throw new RunnerError(`run "${workflowId}" has ended: nothing to decide or send`);
    throw e;
  }
}

/** Approve or deny one waiting call of a run; returns what the decision did. */
export async function decide(
  client: Client,
  workflowId: string,
  decision: 'approve' | 'deny',
  opts: DecisionOptions = {},
): Promise<DecideResult & { input: unknown }> {
  if (decision === 'deny' && !opts.reason?.trim()) throw new RunnerError('a denial needs a reason (the model reads it): --reason "…"');
  const handle = client.workflow.getHandle(workflowId);
  const state = await asUpdate(workflowId, () => handle.query(stateQuery));
  const waiting = state.pendingApprovals ?? [];
  let call: PendingApproval | undefined;
  if (opts.toolUseId) call = waiting.find((p) => p.toolUseId === opts.toolUseId);
  else if (waiting.length === 1) call = waiting[0];
  else if (waiting.length === 0) throw new RunnerError(`run "${workflowId}" has no tool call waiting for approval`);
  else
    throw new RunnerError(
      `run "${workflowId}" has ${waiting.length} calls waiting (${waiting.map((p) => `${p.toolUseId} ${p.tool}`).join(', ')}): name one with --tool`,
    );
  // An id the state does not show still goes to the run, whose validator says why it is refused.
  const toolUseId = opts.toolUseId ?? call!.toolUseId;
  const inputHash = opts.inputHash ?? call?.inputHash ?? '';
  const result = await asUpdate(workflowId, () =>
    handle.executeUpdate(decideUpdate, {
      args: [{ toolUseId, decision, inputHash, ...(opts.reason && { reason: opts.reason }), ...(opts.by && { by: opts.by }) }],
    }),
  );
  return { ...result, input: call?.input };
}

/** Every call waiting for approval, across the runs whose `AgentStatus` says so (newest first). */
export async function pendingCalls(client: Client, filter: { agent?: string; limit?: number } = {}): Promise<PendingCall[]> {
  const clauses = [`WorkflowType = '${AGENT_WORKFLOW_TYPE}'`, `AgentStatus = 'awaiting_approval'`, "ExecutionStatus = 'Running'"];
  if (filter.agent) {
    if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(filter.agent)) throw new RunnerError(`invalid agent name "${filter.agent}"`);
    clauses.push(`AgentName = '${filter.agent}'`);
  }
  const out: PendingCall[] = [];
  for await (const w of client.workflow.list({ query: clauses.join(' AND ') })) {
    let state: RunState;
    try {
      state = await client.workflow.getHandle(w.workflowId).query(stateQuery);
    } catch {
      continue; // ended since it was listed
    }
    for (const p of state.pendingApprovals ?? [])
      out.push({
        ...p,
        workflowId: w.workflowId,
        agent: w.typedSearchAttributes.get(AgentName) ?? state.agent,
        ...(state.parent && { parent: state.parent }),
      });
    if (out.length >= (filter.limit ?? 100)) break;
  }
  return out;
}

/** Options of {@link send}. */
export interface SendOptions {
  /** Start the session with this agent if no run has this id yet (update-with-start). */
  agent?: string;
  taskQueue: string;
  by?: string;
  /** A new session's idle timeout (default 24 h). */
  idleTimeout?: string;
}

/** Send a session its next message and wait for the reply; with `agent`, the first message starts it. */
export async function send(client: Client, workflowId: string, text: string, opts: SendOptions): Promise<SendResult> {
  if (typeof text !== 'string' || text.trim() === '') throw new RunnerError('the message is empty: say something');
  const args = [{ text, ...(opts.by && { by: opts.by }) }] as [{ text: string; by?: string }];
  if (!opts.agent) return asUpdate(workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(sendUpdate, { args }));
  const input = { agent: opts.agent, session: { ...(opts.idleTimeout && { idleTimeout: opts.idleTimeout }) } };
  const problem = runInputProblem(input);
  if (problem) throw new RunnerError(problem);
  const startWorkflowOperation = new WithStartWorkflowOperation(AGENT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: opts.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `${opts.agent}: session`,
    typedSearchAttributes: [
      { key: AgentName, value: opts.agent },
      { key: AgentStatus, value: 'running' },
    ],
  });
  return asUpdate(workflowId, () => client.workflow.executeUpdateWithStart(sendUpdate, { args, startWorkflowOperation }));
}

/** End a session now (it completes with its transcript). */
export async function endSession(client: Client, workflowId: string, by?: string): Promise<void> {
  await asUpdate(workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(endUpdate, { args: [by ? { by } : {}] }));
}

/** A note for a working run, delivered with its next model call; returns how many notes wait. */
export async function say(client: Client, workflowId: string, text: string, by?: string): Promise<number> {
  if (typeof text !== 'string' || text.trim() === '') throw new RunnerError('the note is empty: say something');
  const r = await asUpdate(workflowId, () =>
    client.workflow.getHandle(workflowId).executeUpdate(sayUpdate, { args: [{ text, ...(by && { by }) }] }),
  );
  return r.queued;
}

/** Raise a run's budget (a run paused at it goes on if its next call now fits). */
export function raiseBudget(client: Client, workflowId: string, args: BudgetArgs): Promise<BudgetResult> {
  return asUpdate(workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(budgetUpdate, { args: [args] }));
}
