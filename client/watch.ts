/**
 * Following a run: its story from history (long-polled), and while a model call streams, a
 * progress line from the activity's heartbeat details. On a TTY the progress line rewrites
 * itself; elsewhere it is printed as plain lines, at most one every few seconds.
 */
import type { temporal } from '@temporalio/proto';
import { ActivityNames, type ModelProgress } from '../contract/activities.js';
import type { RunHandle } from './runner.js';
import { plain } from './format.js';
import { decodePayloads, RunStory } from './run-story.js';
import { stuckLine, watchStuck } from './stuck.js';

/** Where `watch` writes. */
export interface WatchOutput {
  line(text: string): void;
  /** A progress line that the next line replaces (TTY), or undefined to print progress as lines. */
  progress?: (text: string) => void;
}

/**
 * Print the run's story; with `follow`, keep going until the run closes — or until it is found
 * stuck (its workflow task keeps failing), which `stuck` then says in one line.
 */
export async function tellRun(run: RunHandle, opts: { follow: boolean; out: WatchOutput }): Promise<RunStory & { stuck?: string }> {
  const client = run.client;
  const story: RunStory & { stuck?: string } = RunStory.for(client);
  const stopProgress = opts.follow ? startProgress(run, opts.out) : () => undefined;
  const abort = new AbortController();
  const watch = opts.follow ? watchStuck(client, run.temporal) : undefined;
  void watch?.stuck.then((line) => {
    story.stuck = line;
    abort.abort();
  });
  try {
    // A long run is a chain of executions (continue-as-new): tell it from the first one.
    let runId: string | undefined = await firstRunId(run);
    while (runId) {
      let next: string | undefined;
      let token: Uint8Array | undefined;
      for (;;) {
        let res;
        // A signal per long poll, tied to the watch's: the client adds a listener to the signal it
        // is given and a long watch makes hundreds of polls (Node warns past 10 listeners).
        const call = new AbortController();
        const onAbort = () => call.abort();
        abort.signal.addEventListener('abort', onAbort, { once: true });
        try {
          res = await client.connection.withAbortSignal(call.signal, () =>
            client.workflowService.getWorkflowExecutionHistory({
              namespace: client.options.namespace,
              execution: { workflowId: run.workflowId, runId },
              ...(token && { nextPageToken: token }),
              waitNewEvent: opts.follow,
            }),
          );
        } catch (e) {
          if (story.stuck) return story; // the stuck line ends the watch
          throw e;
        } finally {
          abort.signal.removeEventListener('abort', onAbort);
        }
        for (const e of res.history?.events ?? []) {
          next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
          for (const l of await story.lines(e as temporal.api.history.v1.IHistoryEvent)) opts.out.line(l);
        }
        if (!res.nextPageToken?.length) break;
        token = res.nextPageToken;
      }
      runId = next || undefined;
    }
    if (!story.closed && !opts.follow) story.stuck = await stuckLine(client, run.temporal).catch(() => undefined);
  } finally {
    stopProgress();
    watch?.stop();
  }
  return story;
}

/** The run id of the first execution of the run's chain. */
async function firstRunId(run: RunHandle): Promise<string | undefined> {
  const res = await run.client.workflowService.getWorkflowExecutionHistory({
    namespace: run.client.options.namespace,
    execution: { workflowId: run.workflowId },
    maximumPageSize: 1,
  });
  return res.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId || undefined;
}

function startProgress(run: RunHandle, out: WatchOutput): () => void {
  let last = '';
  let lastPrinted = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const d = await run.temporal.describe();
        const model = (d.raw.pendingActivities ?? []).find((a) => a.activityType?.name === ActivityNames.callModel);
        if (!model) return;
        const [p] = (await decodePayloads(run.client.options.loadedDataConverter, model.heartbeatDetails)) as [ModelProgress | undefined];
        const attempt = model.attempt && model.attempt > 1 ? ` (attempt ${model.attempt})` : '';
        // The live text: the tail of what the model has written so far (its heartbeat carries it).
        const tail = p?.text ? ` "${plain(p.text.replace(/\s+/g, ' ').slice(-80))}"` : '';
        const text = p
          ? `… model ${p.phase === 'streaming' ? 'streaming' : 'waiting for the first token'}: ~${p.outputTokens} output tokens so far${attempt}${tail}`
          : `… calling the model${attempt}`;
        if (out.progress) out.progress(text);
        else if (text !== last && Date.now() - lastPrinted >= 2000) {
          out.line(text);
          lastPrinted = Date.now();
        }
        last = text;
      } catch {
        // The run may have just closed; the history loop reports that.
      } finally {
        busy = false;
      }
    })();
  }, 500);
  return () => clearInterval(timer);
}
