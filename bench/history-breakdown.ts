/**
 * Where a durable turn's time goes, from the server's own history timestamps.
 *
 * A turn of the loop (model call with one tool_use, then the tool) is a strict chain of events:
 *
 *   callModel scheduled → started → completed = WFT scheduled → started → completed
 *   = runTool scheduled → started → completed = WFT scheduled → started → completed
 *   = next callModel scheduled
 *
 * so the interval between two callModel schedulings splits exactly into: two activity dispatches
 * (scheduled → started: matching hands the task to a poller), two activity executions
 * (started → completed: the worker runs it and reports back), two workflow-task dispatches and
 * two workflow-task executions (the worker replays the activation and sends its commands).
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type IHistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Milliseconds of each segment of one turn. */
export interface TurnSegments {
  modelDispatch: number;
  modelExecution: number;
  wftDispatch: number;
  wftExecution: number;
  toolDispatch: number;
  toolExecution: number;
  total: number;
}

export const SEGMENT_LABELS: Record<keyof TurnSegments, string> = {
  modelDispatch: 'callModel activity: scheduled → started (matching)',
  modelExecution: 'callModel activity: started → completed (HTTP to the model + report)',
  wftDispatch: 'workflow tasks: scheduled → started (×2 per turn)',
  wftExecution: 'workflow tasks: started → completed (×2 per turn)',
  toolDispatch: 'runTool activity: scheduled → started (matching)',
  toolExecution: 'runTool activity: started → completed (handler + report)',
  total: 'turn (callModel scheduled → next callModel scheduled)',
};

/** Event time in ms with sub-ms precision. */
function at(e: IHistoryEvent): number {
  return Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
}

interface Span {
  kind: 'callModel' | 'runTool' | 'other' | 'wft';
  scheduled: number;
  started?: number;
  closed?: number;
}

/** Per-turn segments of one execution (turns that had exactly one tool call); also events per turn. */
export async function turnBreakdown(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<{ turns: TurnSegments[]; eventsPerTurn: number; wftPerTurn: number; upsertsPerTurn: number }> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const spans = new Map<number, Span>();
  const order: Span[] = [];
  for (const e of events) {
    const id = Number(e.eventId);
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched) {
      const name = sched.activityType?.name;
      const span: Span = { kind: name === 'callModel' || name === 'runTool' ? name : 'other', scheduled: at(e) };
      spans.set(id, span);
      order.push(span);
    }
    if (e.workflowTaskScheduledEventAttributes) {
      const span: Span = { kind: 'wft', scheduled: at(e) };
      spans.set(id, span);
      order.push(span);
    }
    const started = e.activityTaskStartedEventAttributes ?? e.workflowTaskStartedEventAttributes;
    if (started) {
      const span = spans.get(Number(started.scheduledEventId));
      if (span) span.started = at(e);
    }
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.workflowTaskCompletedEventAttributes ??
      e.workflowTaskFailedEventAttributes ??
      e.workflowTaskTimedOutEventAttributes;
    if (closed) {
      const span = spans.get(Number(closed.scheduledEventId));
      if (span) span.closed = at(e);
    }
  }
  const turns: TurnSegments[] = [];
  const models = order.filter((s) => s.kind === 'callModel');
  for (let k = 0; k + 1 < models.length; k++) {
    const from = order.indexOf(models[k]!);
    const to = order.indexOf(models[k + 1]!);
    const between = order.slice(from, to);
    const tools = between.filter((s) => s.kind === 'runTool');
    const wfts = between.filter((s) => s.kind === 'wft');
    const m = models[k]!;
    const t = tools[0];
    if (
      tools.length !== 1 ||
      wfts.length !== 2 ||
      !t ||
      m.started === undefined ||
      m.closed === undefined ||
      t.started === undefined ||
      t.closed === undefined
    )
      continue;
    if (wfts.some((w) => w.started === undefined || w.closed === undefined)) continue;
    turns.push({
      modelDispatch: m.started - m.scheduled,
      modelExecution: m.closed - m.started,
      wftDispatch: wfts.reduce((a, w) => a + (w.started! - w.scheduled), 0),
      wftExecution: wfts.reduce((a, w) => a + (w.closed! - w.started!), 0),
      toolDispatch: t.started - t.scheduled,
      toolExecution: t.closed - t.started,
      total: models[k + 1]!.scheduled - m.scheduled,
    });
  }
  const firstModel = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel');
  const lastModel = events.findLastIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel');
  const span = Math.max(1, models.length - 1);
  const wftCount = order.slice(order.indexOf(models[0]!), order.indexOf(models.at(-1)!)).filter((s) => s.kind === 'wft').length;
  const upserts = events.slice(firstModel, lastModel).filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length;
  return { turns, eventsPerTurn: (lastModel - firstModel) / span, wftPerTurn: wftCount / span, upsertsPerTurn: upserts / span };
}

/** Total history bytes of a run's whole continue-as-new chain, with the size of each execution. */
export async function chainHistory(
  client: Client,
  workflowId: string,
): Promise<{ executions: { runId: string; bytes: number; events: number }[]; totalBytes: number }> {
  const first = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = first.raw.workflowExecutionInfo?.firstRunId ?? undefined;
  const executions: { runId: string; bytes: number; events: number }[] = [];
  while (runId) {
    const d = await client.workflow.getHandle(workflowId, runId).describe();
    executions.push({ runId, bytes: Number(d.raw.workflowExecutionInfo?.historySizeBytes ?? 0), events: d.historyLength });
    // Only the last event is needed to find the next execution: read the history backwards, one event.
    const last = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
    runId = last.history?.events?.[0]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return { executions, totalBytes: executions.reduce((a, e) => a + e.bytes, 0) };
}
