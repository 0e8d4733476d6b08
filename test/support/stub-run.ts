/**
 * The real `agentRun` workflow with stub activities on the time-skipping test server: a stub
 * config, a scripted model, and a run driven to its end.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll } from 'vitest';
import type { ModelCallInput, ToolCallInput } from '../../contract/activities.js';
import { DEFAULT_LIMITS, DEFAULT_MODEL_POLICY, DEFAULT_TOOL_POLICY, type RunConfig } from '../../contract/config.js';
import type { ContentBlock, Message, StopReason } from '../../contract/messages.js';
import type { RunInput, RunResult } from '../../contract/run.js';
import { AGENT_WORKFLOW_TYPE } from '../../contract/workflow.js';
import { startTimeSkipping, stubWorker } from './time-skipping.js';

export const config: RunConfig = {
  agent: 'stub',
  request: { model: 'claude-stub', max_tokens: 100, tools: [{ name: 'echo', input_schema: { type: 'object' } }] },
  maxTurns: 5,
  model: { ...DEFAULT_MODEL_POLICY, maximumAttempts: 2, initialInterval: '10ms' },
  tools: { echo: { ...DEFAULT_TOOL_POLICY, retry: { ...DEFAULT_TOOL_POLICY.retry, maximumAttempts: 2, initialInterval: '10ms' } } },
  limits: DEFAULT_LIMITS,
};

export function reply(content: ContentBlock[], stop_reason: StopReason): Message {
  return {
    id: 'msg_stub',
    type: 'message',
    role: 'assistant',
    model: 'claude-stub',
    content,
    stop_reason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: 10,
      output_tokens: 5,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      cache_creation: null,
      server_tool_use: null,
      service_tier: null,
      inference_geo: null,
      output_tokens_details: null,
      speed: null,
    },
  };
}
export const text = (t: string): ContentBlock => ({ type: 'text', text: t, citations: null });
export const use = (id: string, input: unknown = {}): ContentBlock => ({
  type: 'tool_use',
  id,
  name: 'echo',
  input,
  caller: { type: 'direct' },
});

/** A model that answers from a script, one reply per call; what it was asked is kept. */
export function scriptedModel(...replies: (Message | Error)[]) {
  const requests: ModelCallInput[] = [];
  const callModel = async (input: ModelCallInput) => {
    requests.push(structuredClone(input));
    const next = replies.shift();
    if (!next) throw ApplicationFailure.nonRetryable('stub model: out of script');
    if (next instanceof Error) throw next;
    return { message: next };
  };
  return { callModel, requests };
}

/** The environment of the file that called {@link useEnv}. */
export let env: TestWorkflowEnvironment;

/** Start the time-skipping test server for this file (its own: time skipping is global to it). */
export function useEnv(): void {
  beforeAll(async () => {
    env = await startTimeSkipping();
  });
  afterAll(async () => env?.teardown());
}

/** Run the workflow to its end with these stubs. */
export async function runWith(
  stubs: {
    callModel: ReturnType<typeof scriptedModel>['callModel'];
    runTool?: (input: ToolCallInput) => Promise<unknown>;
    config?: RunConfig;
  },
  input: Partial<RunInput> = {},
  during?: (workflowId: string) => Promise<void>,
): Promise<RunResult> {
  const resolved = stubs.config ?? config;
  const { worker, taskQueue } = await stubWorker(env, [], {
    resolveAgent: async (i) => ({ ...resolved, maxTurns: i.overrides?.maxTurns ?? resolved.maxTurns }),
    callModel: stubs.callModel,
    runTool: (stubs.runTool ?? (async (i: ToolCallInput) => ({ type: 'tool_result', tool_use_id: i.toolUse.id, content: 'ok' }))) as never,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(AGENT_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `unit-${Math.random().toString(36).slice(2)}`,
      args: [{ agent: 'stub', prompt: 'go', ...input }],
    });
    await during?.(handle.workflowId);
    try {
      return (await handle.result()) as RunResult;
    } catch (e) {
      const details = (e as { cause?: ApplicationFailure }).cause?.details?.[0] as RunResult | undefined;
      if (details) return { ...details, error: (e as { cause: Error }).cause.message };
      throw e;
    }
  });
}
