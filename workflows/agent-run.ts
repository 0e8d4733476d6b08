/**
 * The durable agent loop: call the model, run the tools it asks for, send the results back,
 * repeat until the model stops for another reason.
 *
 * Determinism: everything that touches the outside world (the agent registry, the Messages API,
 * tool handlers) happens in activities; this file only orders them. The run's configuration is
 * resolved by one activity at the start and recorded in history, so a replay or a deploy that
 * changes an agent's definition does not change a run already under way.
 *
 * Cancellation (the `cancel` signal, or Temporal's own cancel) cancels the loop's scope: the
 * in-flight model call and tools are cancelled and nothing new starts. A cancelled run
 * *completes* with status `cancelled` and a transcript in which every `tool_use` has its result.
 *
 * Seam: a session (a run that waits for the next user message instead of completing) plugs in
 * where the loop ends with `done`.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  ContinueAsNew,
  isCancellation,
  ApplicationFailure,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { DEFAULT_LIMITS, type RunConfig } from '../contract/config.js';
import { failureLine, Failures } from '../contract/failures.js';
import type { RunInput, RunResult } from '../contract/run.js';
import { runInputProblem } from '../contract/run-input.js';
import { resolveAgent, resolveAgentLocally } from './activities.js';
import { AgentRun } from './run-state.js';
import { fitContext, takeTurn } from './turn.js';

/** Workflow `agentRun`: one agent run from prompt to final answer. */
export async function agentRun(input: RunInput): Promise<RunResult> {
  const run = new AgentRun(input);
  const problem = input?.carry ? null : runInputProblem(input);
  if (problem) return run.fail(`invalid run input: ${problem}`, Failures.invalidRunInput.type);
  run.publish('running');
  try {
    await run.scope.run(async () => {
      const config = await runConfig(input, run);
      while (!run.cancelled) {
        if (run.turns >= config.maxTurns) {
          run.stopReason = 'max_turns';
          break;
        }
        fitContext(run, config);
        await continueAsNewIfDue(run, config);
        if ((await takeTurn(run, config)) === 'done') break;
      }
    });
  } catch (e) {
    if (e instanceof ApplicationFailure || e instanceof ContinueAsNew) throw e; // a failed run / the next execution
    if (!isCancellation(e)) run.fail(failureLine(e));
  }
  return run.cancelled ? run.finishCancelled() : run.finish('completed');
}

/** The run's configuration: resolved once when it starts, carried across executions. */
async function runConfig(input: RunInput, run: AgentRun): Promise<RunConfig> {
  let config = input.carry?.config;
  if (!config) {
    try {
      const request = { agent: run.agent, ...(input.overrides && { overrides: input.overrides }) };
      // Versioned: runs started before resolved the agent with a (remote) activity.
      config = patched('resolve-agent-locally') ? await resolveAgentLocally(request) : await resolveAgent(request);
    } catch (e) {
      if (isCancellation(e)) throw e;
      return run.fail(failureLine(e));
    }
  }
  if (config.searchAttributesRegistered) run.enableSearchAttributes();
  // Configurations recorded before limits existed get the defaults, so old runs replay as they ran.
  return { ...config, limits: { ...DEFAULT_LIMITS, ...config.limits } };
}

/** At a turn boundary, hand the run to a fresh execution before its history grows too big. */
async function continueAsNewIfDue(run: AgentRun, config: RunConfig): Promise<void> {
  const info = workflowInfo();
  if (run.turns === run.turnsAtStart) return; // at least one turn per execution
  if (!info.continueAsNewSuggested && info.historySize < config.limits.continueAsNewAtBytes) return;
  await condition(allHandlersFinished);
  const { messages, turns, usage, execution, elided } = run;
  await continueAsNew<typeof agentRun>({ agent: run.agent, carry: { config, messages, turns, usage, execution: execution + 1, elided } });
}
