/**
 * The durable agent loop: call the model, run the tools it asks for, send the results back,
 * repeat until the model stops for another reason. A session then waits for the next user
 * message and goes on; a one-shot run completes.
 *
 * Determinism: everything that touches the outside world (the agent registry, the Messages API,
 * tool handlers) happens in activities; this file only orders them. The run's configuration is
 * resolved by one activity at the start and recorded in history, so a replay or a deploy that
 * changes an agent's definition does not change a run already under way.
 *
 * Cancellation (the `cancel` signal, or Temporal's own cancel) cancels the loop's scope: the
 * in-flight model call and tools are cancelled, calls waiting for approval are answered, and
 * nothing new starts. A cancelled run *completes* with status `cancelled` and a transcript in
 * which every `tool_use` has its result.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  ContinueAsNew,
  isCancellation,
  patched,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time.js';
import type { ResolveAgentInput } from '../contract/activities.js';
import { DEFAULT_LIMITS, DEFAULT_SESSION_IDLE_TIMEOUT, type RunConfig } from '../contract/config.js';
import { failureLine, Failures } from '../contract/failures.js';
import type { PendingTurn, RunInput, RunResult } from '../contract/run.js';
import { runInputProblem } from '../contract/run-input.js';
import { resolveAgent, resolveAgentLocally } from './activities.js';
import { afterOutputTurn, requireOutput } from './output.js';
import { AgentRun } from './run-state.js';
import { fitContext, takeTurn, toolPhase, type TurnOutcome } from './turn.js';

/** Workflow `agentRun`: one agent run from prompt to final answer (or a session, exchange after exchange). */
export async function agentRun(input: RunInput): Promise<RunResult> {
  const run = new AgentRun(input);
  const problem = input?.carry ? null : runInputProblem(input);
  if (problem) return run.fail(`invalid run input: ${problem}`, Failures.invalidRunInput.type);
  run.publish('running');
  try {
    await run.scope.run(async () => {
      const config = await runConfig(input, run);
      const pending = input.carry?.pendingTurn;
      if (pending && (await resumeTurn(run, config, input, pending)) === 'stop') return;
      await converse(run, config, input);
    });
    requireOutput(run);
  } catch (e) {
    if (e instanceof ApplicationFailure || e instanceof ContinueAsNew) throw e; // a failed run / the next execution
    if (!isCancellation(e)) run.fail(failureLine(e));
  }
  const result = run.cancelled ? run.finishCancelled() : run.finish('completed');
  await run.settleHandlers();
  return result;
}

/** One-shot: turns until the model stops. Session: that, then the next message, until idle or ended. */
async function converse(run: AgentRun, config: RunConfig, input: RunInput): Promise<void> {
  const session = run.session;
  for (;;) {
    if (session && (run.messages.length === 0 || run.messages.at(-1)?.role === 'assistant')) {
      run.phase = 'awaiting_message';
      const idle = input.session?.idleTimeout ?? DEFAULT_SESSION_IDLE_TIMEOUT;
      run.idleDeadline = new Date(Date.now() + msToNumber(idle)).toISOString();
      run.publish('running');
      // Hand over between exchanges (after at least one in this execution: the carry alone may exceed the threshold).
      const due = () => !session.waiting && run.turns > run.turnsAtStart && run.handoffDue(config);
      const next = await session.next(run.messages, msToNumber(idle), due, run);
      if (next === 'handoff') await handOver(run, config, input);
      if (next === 'idle' || next === 'ended') {
        run.stopReason = next === 'idle' ? 'session_idle' : 'session_ended';
        return;
      }
      run.exchangeStartTurns = run.turns;
    }
    const outcome = await turns(run, config, input);
    if (!session || outcome === 'stop') return;
    session.finishExchange(run.messages, run.stopReason, run);
  }
}

/** Turns until the model ends its turn (`done`), the turn limit is reached, or the run is cancelled (`stop`). */
async function turns(run: AgentRun, config: RunConfig, input: RunInput): Promise<'done' | 'stop'> {
  while (!run.cancelled) {
    if (run.turns - run.exchangeStartTurns >= config.maxTurns) {
      run.stopReason = 'max_turns';
      return run.session ? 'done' : 'stop';
    }
    fitContext(run, config);
    if (!(await run.spend.allows(run, config))) {
      if (run.cancelled) return 'stop';
      run.stopReason = 'budget_exceeded';
      return 'stop';
    }
    await continueAsNewIfDue(run, config, input);
    let outcome: TurnOutcome = await takeTurn(run, config);
    if (config.output) outcome = afterOutputTurn(run, config.output, outcome);
    if (outcome === 'done') return 'done';
    if (typeof outcome === 'object') await handOver(run, config, input, outcome.handoff);
  }
  return 'stop';
}

/** A turn handed over while its calls waited for approval: finish it, then go on as usual. */
async function resumeTurn(run: AgentRun, config: RunConfig, input: RunInput, pending: PendingTurn): Promise<'next_turn' | 'stop'> {
  let outcome = await toolPhase(run, config, pending.turn, pending.calls, pending);
  if (config.output) outcome = afterOutputTurn(run, config.output, outcome);
  if (typeof outcome === 'object') await handOver(run, config, input, outcome.handoff);
  return run.cancelled || outcome === 'done' ? 'stop' : 'next_turn';
}

/** The run's configuration: resolved once when it starts, carried across executions. */
async function runConfig(input: RunInput, run: AgentRun): Promise<RunConfig> {
  let config = input.carry?.config;
  if (!config) {
    try {
      const request = { agent: run.agent, ...(input.overrides && { overrides: input.overrides }), ...outputRequest(input) };
      // Versioned: runs started before resolved the agent with a (remote) activity.
      config = patched('resolve-agent-locally') ? await resolveAgentLocally(request) : await resolveAgent(request);
    } catch (e) {
      if (isCancellation(e)) throw e;
      return run.fail(failureLine(e));
    }
  }
  // Configurations recorded before limits existed get the defaults, so old runs replay as they ran.
  const resolved = { ...config, limits: { ...DEFAULT_LIMITS, ...config.limits } };
  run.configure(resolved);
  return resolved;
}

/**
 * At a turn boundary, hand the run to a fresh execution before its history grows too big — not
 * while a session's `send` waits for this exchange's reply (an update cannot cross executions):
 * a session hands over between exchanges.
 */
async function continueAsNewIfDue(run: AgentRun, config: RunConfig, input: RunInput): Promise<void> {
  if (run.turns === run.turnsAtStart) return; // at least one turn per execution
  if (run.session?.waiting || !run.handoffDue(config)) return;
  await handOver(run, config, input);
}

/** Continue as new, carrying everything the run has (and a turn still waiting for approvals). */
async function handOver(run: AgentRun, config: RunConfig, input: RunInput, pendingTurn?: PendingTurn): Promise<never> {
  await condition(allHandlersFinished);
  const { messages, turns, usage, execution, elided, exchangeStartTurns } = run;
  return continueAsNew<typeof agentRun>({
    agent: run.agent,
    ...(input.session && { session: input.session }),
    ...(input.parent && { parent: input.parent }),
    carry: {
      config,
      messages,
      turns,
      usage,
      execution: execution + 1,
      elided,
      ...(exchangeStartTurns > 0 && { exchangeStartTurns }),
      ...(run.session && { session: run.session.carry() }),
      ...(run.notes.queued.length > 0 && { notes: [...run.notes.queued] }),
      ...(pendingTurn && { pendingTurn }),
      ...(run.spend.ledger && { cost: run.spend.ledger }),
      ...(run.spend.limits && { budget: run.spend.limits }),
      ...(run.outputFailures > 0 && { outputFailures: run.outputFailures }),
    },
  });
}

/** What the run asks of structured output, for its resolution (nothing, for runs that ask nothing). */
function outputRequest(input: RunInput): Pick<ResolveAgentInput, 'output' | 'session'> {
  if (input.session) return { session: true };
  const { outputSchema: schema, outputAttempts: maxAttempts } = input;
  if (schema === undefined && maxAttempts === undefined) return {};
  return { output: { ...(schema !== undefined && { schema }), ...(maxAttempts !== undefined && { maxAttempts }) } };
}
