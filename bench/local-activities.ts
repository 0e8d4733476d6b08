/**
 * Local activities: what they cost besides what they save (`--only=local`). For the toolbox
 * agent with remote activities, with local tools, and with the model call and tools local:
 *
 * - crash: a 30-turn run at 100 ms model latency; the worker is SIGKILLed after the 12th model
 *   request and a replacement started at once. Counted: model requests beyond 30 (calls made
 *   again), tool executions beyond one per `tool_use` (from the echo tool's log), kill → next model
 *   request, and whether the run completed;
 * - cancel: a model reply streaming for ~10 s, cancelled 1 s in: cancel → the HTTP stream aborted at
 *   the fake, and cancel → the run closed;
 * - what a 3-turn run writes to history (events by type).
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { FakeMessagesApi, type FakeReply, type RecordedRequest } from '../devtools/fake-api/server.js';
import { text } from '../devtools/fake-api/replies.js';
import { spawnBenchWorker, type WorkerSpec } from './processes.js';
import { BENCH_API_KEY, startStack } from './stack.js';
import { sleep } from './stats.js';
import { benchPrompt, echoScript, requestTag } from './timed-brain.js';

export const LOCAL_VARIANTS = [
  { label: 'remote activities', agent: 'toolbox' },
  { label: 'local tools', agent: 'toolbox-local-tools' },
  { label: 'local model call and tools', agent: 'toolbox-local' },
] as const;

export interface LocalFigures {
  label: string;
  crash: { modelCallsAgain: number; toolsAgain: number; killToNextRequestMs: number; completed: boolean; turnsBeforeKill: number };
  cancel: { toAbortMs: number; toClosedMs: number };
  /** History of a 3-turn run: event count and types. */
  turnEvents: string;
}

const CRASH_TURNS = 30;
const KILL_AFTER = 12;

export async function measureLocalActivities(bundlePath: string, serverArgs: string[]): Promise<LocalFigures[]> {
  const arrivals = new Map<string, number[]>();
  const brain = (req: RecordedRequest): FakeReply => {
    const tag = requestTag(req.body) ?? 'untagged';
    const list = arrivals.get(tag) ?? [];
    list.push(performance.now());
    arrivals.set(tag, list);
    // Cancel runs: a reply that streams for ~10 s.
    if (tag.startsWith('cancel-')) return text('word '.repeat(400), { chunks: 200, chunkDelayMs: 50 });
    return echoScript(req);
  };
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain, latencyMs: 100 });
  const stack = await startStack(serverArgs);
  const out: LocalFigures[] = [];
  try {
    for (const v of LOCAL_VARIANTS) {
      const toolLog = join(tmpdir(), `agent-runner-bench-tools-${process.pid}-${v.agent}.log`);
      rmSync(toolLog, { force: true });
      const taskQueue = `bench-local-${v.agent}`;
      const spec: WorkerSpec = {
        address: stack.server.address,
        taskQueue,
        baseURL: fake.url,
        apiKey: BENCH_API_KEY,
        bundlePath,
        maxActivities: 100,
        env: { BENCH_TOOL_LOG: toolLog },
      };
      const runner = await stack.runner(taskQueue);
      let worker = spawnBenchWorker(spec);
      try {
        await worker.ready;
        // One turn's history.
        const small = `turn-${v.agent}-${Date.now()}`;
        await (await runner.start(v.agent, benchPrompt(small, 3), { workflowId: small, overrides: { maxTurns: 3 } })).result();
        const events = (await stack.client.workflow.getHandle(small).fetchHistory()).events ?? [];
        const counts = new Map<string, number>();
        for (const e of events) {
          const name = (proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        const turnEvents = `${events.length}: ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ')}`;

        // Crash.
        const tag = `crash-${v.agent}-${Date.now()}`;
        const run = await runner.start(v.agent, benchPrompt(tag, CRASH_TURNS), { workflowId: tag, overrides: { maxTurns: CRASH_TURNS } });
        while ((arrivals.get(tag)?.length ?? 0) < KILL_AFTER) await sleep(2);
        const turnsBeforeKill = arrivals.get(tag)!.length;
        worker.child.kill('SIGKILL');
        const killedAt = performance.now();
        await worker.stop();
        worker = spawnBenchWorker(spec);
        await worker.ready;
        while ((arrivals.get(tag)?.length ?? 0) <= turnsBeforeKill) await sleep(2);
        const next = arrivals.get(tag)![turnsBeforeKill]!;
        const r = await run.result();
        // Tool executions of this run (the log has one line per execution: workflow id, tool_use id, attempt, pid).
        const toolRuns = readFileSync(toolLog, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith(`${tag} `)).length;
        const crash = {
          modelCallsAgain: arrivals.get(tag)!.length - CRASH_TURNS,
          // Executions beyond one per tool call the run made (a model call made again asks for new tool_use ids).
          toolsAgain: toolRuns - (CRASH_TURNS - 1),
          killToNextRequestMs: next - killedAt,
          completed: r.status === 'completed' && r.turns === CRASH_TURNS,
          turnsBeforeKill,
        };

        // Cancel.
        const ctag = `cancel-${v.agent}-${Date.now()}`;
        const crun = await runner.start(v.agent, benchPrompt(ctag, 1), { workflowId: ctag });
        while ((arrivals.get(ctag)?.length ?? 0) === 0) await sleep(2);
        await sleep(1_000);
        const cancelAt = Date.now();
        const cancelPerf = performance.now();
        await runner.cancel(ctag, 'bench');
        const cr = await crun.result();
        const closedMs = performance.now() - cancelPerf;
        const req = fake.requests.find((q: RecordedRequest) => requestTag(q.body) === ctag);
        const deadline = Date.now() + 5_000;
        while (req?.abortedAt === undefined && Date.now() < deadline) await sleep(10);
        out.push({
          label: v.label,
          crash,
          cancel: {
            toAbortMs: req?.abortedAt !== undefined ? req.abortedAt - cancelAt : Number.NaN,
            toClosedMs: cr.status === 'cancelled' ? closedMs : Number.NaN,
          },
          turnEvents,
        });
      } finally {
        await worker.stop();
        rmSync(toolLog, { force: true });
      }
    }
  } finally {
    await stack.close();
    await fake.close();
  }
  return out;
}
