/**
 * The invariant, checked once for every integration test file: no run it started on the shared
 * dev server has a failed workflow task. Anything from outside — a signal argument, an API
 * response, a tool output, a size, a deployment mismatch — must end as an `is_error` result, a
 * retried activity or a failed run, never a workflow task failing in a loop.
 *
 * Test files run one at a time, so the runs a file started are those started since it began.
 * A test that makes a run fail its workflow tasks on purpose (a codec mismatch) gives it an id
 * starting with {@link STUCK_ON_PURPOSE} and terminates it. Files with a server of their own (the
 * cluster) call {@link stuckRuns} themselves before stopping it.
 */
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, inject } from 'vitest';

/** Workflow ids of runs whose workflow tasks a test fails on purpose. */
export const STUCK_ON_PURPOSE = 'stuck-on-purpose-';

/** A signal or update that arrives while a task completes: the server asks for a new task. Not a failure of ours. */
const UNHANDLED_COMMAND = 1;

/** `<workflowId>: <failure>` for every failed workflow task of the runs started since `since`. */
export async function stuckRuns(address: string, since: Date, namespace = 'default'): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    // Raw calls: nothing here decodes a payload, so runs written with any codec are checked alike.
    const client = new Client({ connection, namespace });
    const stuck: string[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.listWorkflowExecutions({
        namespace,
        query: `StartTime >= "${since.toISOString()}"`,
        ...(nextPageToken && { nextPageToken }),
      });
      for (const w of page.executions ?? []) {
        const workflowId = w.execution?.workflowId ?? '';
        if (workflowId.startsWith(STUCK_ON_PURPOSE)) continue;
        const history = await client.workflow.getHandle(workflowId, w.execution?.runId ?? undefined).fetchHistory();
        for (const e of history.events ?? []) {
          const failed = e.workflowTaskFailedEventAttributes as
            temporal.api.history.v1.IWorkflowTaskFailedEventAttributes | null | undefined;
          if (failed && failed.cause !== UNHANDLED_COMMAND)
            stuck.push(`${workflowId}: ${failed.failure?.message ?? 'workflow task failed'}`);
        }
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return stuck;
  } finally {
    await connection.close();
  }
}

let since: Date;
beforeAll(() => {
  since = new Date(Date.now() - 1000);
});

afterAll(async () => {
  const address = inject('temporalAddress');
  if (!address) return; // a project without the shared dev server (the cluster's files check their own)
  expect(await stuckRuns(address, since), 'runs with a failed workflow task').toEqual([]);
});
