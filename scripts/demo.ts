/**
 * `npm run demo`: one triage run from start to finish, with everything it needs.
 *
 * Starts the Temporal dev server when none answers at TEMPORAL_ADDRESS, starts a worker in this
 * process, runs the triage agent on a two-order question and prints the transcript, the
 * workflow id and the UI link. Without ANTHROPIC_API_KEY the model is the project's local
 * scripted Messages API server. Everything it started is stopped before it exits.
 *
 * `npm run demo -- --approve`: the customer asks for a support ticket, which a person must
 * approve: the run waits, the demo shows what waits (as `agent-runner pending` would) and
 * approves it (as `agent-runner approve` would), and the ticket is opened.
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { triageAgent } from '../agents/triage/agent.js';
import { clip, labelled, summaryLines, transcriptLines } from '../client/format.js';
import { AgentRunner } from '../client/runner.js';
import { runnerSettings } from '../connection/settings.js';
import { demoBrain } from '../devtools/fake-api/demo-brain.js';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { researcherAgent } from '../agents/researcher/agent.js';
import { conciergeAgent } from '../agents/concierge/agent.js';
import type { ModelEndpoint } from '../activities/index.js';
import { createAgentWorker } from '../worker/create-worker.js';
import { startDevServer, temporalAnswers, type DevServer } from './dev-server.js';

const APPROVE = process.argv.includes('--approve');
/** `--agent=researcher`: the web-search agent (offline: the scripted searches of devtools/fake-api/researcher-brain.ts). */
const AGENT = process.argv.find((a) => a.startsWith('--agent='))?.slice('--agent='.length) ?? 'triage';
const PROMPT =
  process.argv.slice(2).find((a) => !a.startsWith('--')) ??
  (AGENT === 'researcher'
    ? 'How does durable execution keep an AI agent from losing its work?'
    : AGENT === 'concierge'
      ? 'My order 48810 is late. And how does durable execution keep an AI agent from losing its work?'
      : APPROVE
        ? 'My order 48810 is late. Please open a support ticket so someone follows up.'
        : 'Hi, where are my orders 48810 and 99999?');
const DEMO_AGENTS = [triageAgent, researcherAgent, conciergeAgent];
const DB_FILE = fileURLToPath(new URL('../.temporal/dev.db', import.meta.url));
const OFFLINE_KEY = 'offline-demo-key';

async function demo(): Promise<number> {
  const started = Date.now();
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const settings = runnerSettings();
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    let server: DevServer | undefined;
    if (await temporalAnswers(settings.connection.address, settings.namespace)) {
      console.log(`Temporal: using the server at ${settings.connection.address}`);
    } else {
      const [host, port] = splitAddress(settings.connection.address);
      if (!['localhost', '127.0.0.1', '::1'].includes(host)) {
        throw new Error(
          `nothing answers at TEMPORAL_ADDRESS=${settings.connection.address}: start that server, or unset TEMPORAL_ADDRESS to use the embedded one`,
        );
      }
      console.log(`Temporal: no server at ${settings.connection.address}, starting the embedded dev server …`);
      server = await startDevServer({
        port,
        uiPort: Number(new URL(settings.uiUrl).port || 8233),
        dbFile: DB_FILE,
        namespace: settings.namespace,
        log: (l) => console.log(l),
      });
      cleanup.push(() => server!.stop());
    }

    let endpoint: ModelEndpoint = {};
    if (process.env.ANTHROPIC_API_KEY) {
      console.log(
        `Model: Claude (${DEMO_AGENTS.find((a) => a.name === AGENT)?.model ?? triageAgent.model}) via ${process.env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com'}`,
      );
    } else {
      // The scripted model plays whichever agent asks (devtools/fake-api/demo-brain.ts).
      const fake = await FakeMessagesApi.start({ brain: demoBrain, apiKey: OFFLINE_KEY });
      cleanup.push(() => fake.close());
      endpoint = { apiKey: OFFLINE_KEY, baseURL: fake.url };
      console.log(`Model: ANTHROPIC_API_KEY is not set, so the local scripted model server at ${fake.url} answers (offline demo).`);
    }

    const connection = await NativeConnection.connect(settings.connection);
    cleanup.push(() => connection.close());
    // A task queue of its own, so a worker already running elsewhere cannot take these tasks.
    const taskQueue = `${settings.taskQueue}-demo-${process.pid}`;
    if (!DEMO_AGENTS.some((a) => a.name === AGENT))
      throw new Error(`--agent=${AGENT}: the demo runs ${DEMO_AGENTS.map((a) => a.name).join(' or ')}`);
    const worker = await createAgentWorker({ connection, namespace: settings.namespace, taskQueue, agents: DEMO_AGENTS, endpoint });
    const runner = await AgentRunner.connect({ settings: { ...settings, taskQueue } });
    cleanup.push(() => runner.close());

    // The prompt and the answer are untrusted text: printed without terminal escapes, continuation lines marked.
    console.log(['', ...labelled('user: ', PROMPT), ''].join('\n'));
    const run = await runner.start(AGENT, PROMPT);
    console.log(`workflow ${run.workflowId} started`);
    const result = await worker.runUntil(async () => {
      if (APPROVE) await approveWhenAsked(runner, run.workflowId);
      return run.result();
    });

    for (const line of transcriptLines(result.messages).slice(1)) console.log(line);
    console.log(['', ...labelled('Final answer: ', result.finalText), ''].join('\n'));
    for (const line of summaryLines(result, run.url)) console.log(line);
    if (server)
      console.log('(the embedded server stops now; `npm run server` serves the same state, so the link works again while it runs)');
    console.log(`demo took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result.status === 'completed' ? 0 : 1;
  } finally {
    for (const fn of cleanup.reverse()) await fn().catch((e: unknown) => console.error(`cleanup: ${(e as Error).message}`));
  }
}

/** Wait for the ticket to ask for approval, show it, and approve it as a person would. */
async function approveWhenAsked(runner: AgentRunner, workflowId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await runner.state(workflowId);
    const call = state.pendingApprovals[0];
    if (call) {
      console.log(`⏸ the run waits for a person: ${call.tool} ${clip(JSON.stringify(call.input), 200)} (${call.toolUseId})`);
      console.log(`  (agent-runner pending lists it; approving as "demo", like: agent-runner approve ${workflowId} --by demo)`);
      const r = await runner.approve(workflowId, { by: 'demo', reason: 'the customer asked for it' });
      console.log(`✓ approved after ${(r.waitedMs / 1000).toFixed(1)} s of waiting`);
      return;
    }
    if (state.phase === 'done' || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

demo().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${clip((e as Error).message.split('\n')[0], 1000)}`);
    process.exit(1);
  },
);
