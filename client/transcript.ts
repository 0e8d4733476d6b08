/**
 * Putting back what a run left out of its result to fit one payload (`RunResult.omitted`): the
 * final text, and the messages its history already holds — the input messages of the run's last
 * completed model call, followed by that call's reply.
 */
import type { Client } from '@temporalio/client';
import { ActivityNames, type ModelCallInput, type ModelCallResult } from '../contract/activities.js';
import type { MessageParam } from '../contract/messages.js';
import { finalTextOf, type RunResult } from '../contract/run.js';
import { decodePayloads } from './run-story.js';

/** The whole result: unchanged when nothing was left out. */
export async function restoreResult(client: Client, workflowId: string, result: RunResult): Promise<RunResult> {
  if (!result.omitted) return result;
  const { omitted, ...rest } = result;
  let messages = result.messages;
  if (omitted.messagesBefore) {
    const prefix = await lastModelExchange(client, workflowId);
    if (prefix.length !== omitted.messagesBefore) {
      throw new Error(
        `cannot restore the transcript of ${workflowId}: its history holds ${prefix.length} messages, the result expects ${omitted.messagesBefore}`,
      );
    }
    messages = [...prefix, ...messages];
  }
  return { ...rest, messages, finalText: omitted.finalText ? finalTextOf(messages) : result.finalText };
}

/** The input messages of the last completed model call of the run's latest execution, and its reply. */
async function lastModelExchange(client: Client, workflowId: string): Promise<MessageParam[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const converter = client.options.loadedDataConverter;
  const scheduled = new Map<number, unknown>();
  let last: { input: unknown; result: unknown } | undefined;
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === ActivityNames.callModel) scheduled.set(Number(e.eventId), s.input);
    const c = e.activityTaskCompletedEventAttributes;
    if (c && scheduled.has(Number(c.scheduledEventId))) last = { input: scheduled.get(Number(c.scheduledEventId)), result: c.result };
  }
  if (!last) throw new Error(`cannot restore the transcript of ${workflowId}: no completed model call in its latest execution`);
  const [input] = (await decodePayloads(converter, last.input as Parameters<typeof decodePayloads>[1])) as [ModelCallInput];
  const [reply] = (await decodePayloads(converter, last.result as Parameters<typeof decodePayloads>[1])) as [ModelCallResult];
  return [...input.request.messages, { role: 'assistant', content: reply.message.content }];
}
