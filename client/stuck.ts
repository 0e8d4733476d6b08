/**
 * A run whose workflow task keeps failing — a worker whose payload codecs differ from the
 * client's, workflow code that no longer matches the run's history — waits without a word: the
 * server retries the task forever and the worker only logs it. `result`, `start --wait`, `show`
 * and `watch` ask the server instead and say so in one line: how many attempts, the cause, what
 * to do. Nothing is lost meanwhile: fixed, the worker picks the run up where it stopped.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { RunnerError } from './errors.js';
import { failureMessage } from './run-story.js';

/** A run that is live but cannot move: its workflow task keeps failing. */
export class RunStuckError extends RunnerError {
  override name = 'RunStuckError';
}

type FailedTask = temporal.api.history.v1.IWorkflowTaskFailedEventAttributes;

/** `WorkflowTaskFailedCause` values that say what to do (temporal/api enums/v1/failed_cause.proto). */
const NON_DETERMINISTIC = 24;
const BAD_SEARCH_ATTRIBUTES = 23;
const UNHANDLED_FAILURE = 14;

/** What to do about a failed workflow task, by its cause. */
function remedy(cause: number | null | undefined): string {
  if (cause === NON_DETERMINISTIC) {
    return "the workers' workflow code no longer matches this run's history: deploy the code that started it, or version the change with patched()";
  }
  if (cause === BAD_SEARCH_ATTRIBUTES) return 'register the search attributes on the namespace (see the README) and the run resumes';
  if (cause === UNHANDLED_FAILURE) {
    return "fix the worker (its log says more; a payload codec error means the workers' AGENT_RUNNER_COMPRESSION / AGENT_RUNNER_ENCRYPTION_* settings differ from this client's: give every process the same ones) and the run resumes where it stopped";
  }
  return "see the worker's log; once fixed, the run resumes where it stopped";
}

/** The last failed workflow task of an execution, newest first from the server. */
async function lastFailedTask(client: Client, workflowId: string, runId: string | undefined): Promise<FailedTask | undefined> {
  const res = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId, ...(runId && { runId }) },
    maximumPageSize: 50,
  });
  for (const e of res.history?.events ?? []) if (e.workflowTaskFailedEventAttributes) return e.workflowTaskFailedEventAttributes;
  return undefined;
}

/**
 * One line if the run's current workflow task has failed and is being retried (attempt ≥ 2),
 * else undefined. Cheap: one describe, and one reverse history page when stuck.
 */
export async function stuckLine(client: Client, handle: WorkflowHandle): Promise<string | undefined> {
  const d = await handle.describe();
  if (d.status.name !== 'RUNNING') return undefined;
  const attempt = d.raw.pendingWorkflowTask?.attempt ?? 0;
  if (attempt < 2) return undefined;
  const failed = await lastFailedTask(client, handle.workflowId, d.runId);
  const message = await failureMessage(client.options.loadedDataConverter, failed?.failure);
  const why = (message ?? 'no failure recorded').replace(/\s+/g, ' ').slice(0, 400);
  return `run ${handle.workflowId} is stuck: its workflow task has failed ${attempt - 1} time(s) and is being retried: ${why}. To do: ${remedy(failed?.cause)}`;
}

/**
 * Resolves with the stuck line once the run has been seen stuck on two checks in a row
 * (`everyMs` apart); never resolves while the run moves. `stop()` ends the watch.
 */
export function watchStuck(client: Client, handle: WorkflowHandle, everyMs = 2_000): { stuck: Promise<string>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stuck = new Promise<string>((resolve) => {
    let seen = 0;
    const check = async () => {
      if (stopped) return;
      try {
        const line = await stuckLine(client, handle);
        seen = line ? seen + 1 : 0;
        if (line && seen >= 2) return resolve(line);
      } catch {
        // The run may have just closed, or the server hiccupped: look again next time.
      }
      if (!stopped) timer = setTimeout(() => void check(), everyMs);
    };
    timer = setTimeout(() => void check(), everyMs);
  });
  return {
    stuck,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
