/** Reading a run's history in tests: activities with their attempts, times and UI summaries. */
import { defaultPayloadConverter, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

/** One activity as its history events tell it. */
export interface ActivityEvents {
  activityType: string;
  scheduledEventId: number;
  summary: string | undefined;
  scheduledAt: number;
  /** Attempt number of the attempt that closed it. */
  attempt: number | undefined;
  startedAt: number | undefined;
  completedEventId: number | undefined;
  outcome: 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'open';
}

function ms(t: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

/** Every activity of a run, in schedule order. */
export async function activityEvents(client: Client, workflowId: string): Promise<ActivityEvents[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const byScheduled = new Map<number, ActivityEvents>();
  for (const e of history.events ?? []) {
    const id = Number(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      const summaryPayload = e.userMetadata?.summary;
      byScheduled.set(id, {
        activityType: e.activityTaskScheduledEventAttributes.activityType?.name ?? '',
        scheduledEventId: id,
        summary: summaryPayload ? defaultPayloadConverter.fromPayload<string>(summaryPayload) : undefined,
        scheduledAt: ms(e.eventTime),
        attempt: undefined,
        startedAt: undefined,
        completedEventId: undefined,
        outcome: 'open',
      });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const a = byScheduled.get(Number(started.scheduledEventId));
      if (a) Object.assign(a, { attempt: started.attempt ?? undefined, startedAt: ms(e.eventTime) });
    }
    const closes: [keyof temporal.api.history.v1.IHistoryEvent, ActivityEvents['outcome']][] = [
      ['activityTaskCompletedEventAttributes', 'completed'],
      ['activityTaskFailedEventAttributes', 'failed'],
      ['activityTaskTimedOutEventAttributes', 'timed_out'],
      ['activityTaskCanceledEventAttributes', 'cancelled'],
    ];
    for (const [key, outcome] of closes) {
      const attrs = e[key] as { scheduledEventId?: Long | number | null } | null | undefined;
      if (!attrs) continue;
      const a = byScheduled.get(Number(attrs.scheduledEventId));
      if (a) Object.assign(a, { completedEventId: id, outcome });
    }
  }
  return [...byScheduled.values()];
}

type Long = { toNumber(): number };
