/**
 * Crash recovery: a worker process is SIGKILLed while a model reply streams; a new worker process
 * is started at once. Measured: kill → the retried model request arriving at the fake API. The
 * bench runs it with the `toolbox-defaults` agent (bench/agents.ts), whose model call has the
 * project's default policy (DEFAULT_MODEL_POLICY: 5 s heartbeat timeout, first retry after 1 s),
 * so the retry can only be dispatched once the server has seen no heartbeat for 5 s and the
 * backoff has passed.
 */
import { msToNumber } from '@temporalio/common/lib/time.js';
import { DEFAULT_MODEL_POLICY } from '../contract/config.js';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { text } from '../devtools/fake-api/replies.js';
import type { FakeReply, RecordedRequest } from '../devtools/fake-api/server.js';
import type { AgentRunner } from '../client/runner.js';
import { spawnBenchWorker, type WorkerSpec } from './processes.js';
import { BENCH_API_KEY } from './stack.js';
import { sleep } from './stats.js';
import { benchPrompt, requestTag } from './timed-brain.js';

/** The agent the crash is measured with: the project's default model-call policy. */
export const CRASH_AGENT = 'toolbox-defaults';
/** Its model call's heartbeat timeout and first retry interval (DEFAULT_MODEL_POLICY). */
export const HEARTBEAT_TIMEOUT_MS = msToNumber(DEFAULT_MODEL_POLICY.heartbeatTimeout);
export const RETRY_INITIAL_MS = msToNumber(DEFAULT_MODEL_POLICY.initialInterval);
/** Workers send heartbeats at most this often (worker/create-worker.ts), so the last one recorded may be this old at the kill. */
export const HEARTBEAT_THROTTLE_MS = 1_000;

/** One trial. */
export interface CrashTrial {
  /** Kill → retried request at the fake, ms. */
  recoveryMs: number;
  /** Spawn of the replacement → it polls, ms (runs in parallel with the timeout). */
  replacementReadyMs: number;
  completed: boolean;
}

/** Run `trials` kill-and-recover trials; spawns and stops its own worker processes. */
export async function measureCrashRecovery(opts: {
  runner: AgentRunner;
  worker: Omit<WorkerSpec, 'baseURL' | 'apiKey'>;
  trials: number;
}): Promise<CrashTrial[]> {
  const arrivals = new Map<string, number[]>();
  // First request of each run: a reply that streams for ~20 s; its retry: a short answer.
  const brain = (req: RecordedRequest): FakeReply => {
    const tag = requestTag(req.body) ?? 'untagged';
    const list = arrivals.get(tag) ?? [];
    list.push(performance.now());
    arrivals.set(tag, list);
    return list.length === 1 ? text('word '.repeat(400), { chunks: 200, chunkDelayMs: 100 }) : text('Recovered.');
  };
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain });
  const spec: WorkerSpec = { ...opts.worker, baseURL: fake.url, apiKey: BENCH_API_KEY };
  const out: CrashTrial[] = [];
  try {
    for (let i = 0; i < opts.trials; i++) {
      const first = spawnBenchWorker(spec);
      await first.ready;
      const tag = `crash-${i}-${Date.now()}`;
      const run = await opts.runner.start(CRASH_AGENT, benchPrompt(tag, 1), { workflowId: tag });
      while ((arrivals.get(tag)?.length ?? 0) === 0) await sleep(5);
      await sleep(1_500); // well into the stream, with heartbeats flowing
      first.child.kill('SIGKILL');
      const killedAt = performance.now();
      const second = spawnBenchWorker(spec);
      await second.ready;
      const replacementReadyMs = performance.now() - killedAt;
      await first.stop(); // already dead: this only drops its exit hook
      const deadline = performance.now() + 30_000;
      while ((arrivals.get(tag)?.length ?? 0) < 2 && performance.now() < deadline) await sleep(2);
      const retriedAt = arrivals.get(tag)?.[1];
      if (retriedAt === undefined) {
        // Never leave a run behind a bench that gave up on it.
        await run.temporal.terminate('bench: no retry within 30 s').catch(() => undefined);
        out.push({ recoveryMs: Number.NaN, replacementReadyMs, completed: false });
      } else {
        const r = await run.result();
        out.push({
          recoveryMs: retriedAt - killedAt,
          replacementReadyMs,
          completed: r.status === 'completed' && r.finalText === 'Recovered.',
        });
      }
      await second.stop();
    }
  } finally {
    await fake.close();
  }
  return out;
}
