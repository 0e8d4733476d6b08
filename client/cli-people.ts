/**
 * The commands for people in the loop: `pending`, `approve`, `deny` (tool calls waiting for a
 * decision), `send` and `chat` (sessions), `say` (steer a working run).
 */
import { createInterface } from 'node:readline';
import { ActivityNames, type ModelProgress } from '../contract/activities.js';
import { flag, json, str, UsageError, type CliIO, type Command, type Values } from './cli-kit.js';
import { clip, labelled, oneLine, plain } from './format.js';
import { decodePayloads } from './run-story.js';
import type { AgentRunner } from './runner.js';
import { workflowIdProblem } from './runner.js';

const by = { type: 'string', value: 'NAME', help: 'who you are (shown by watch and in the run)' } as const;

function decisionOptions(values: Values): { toolUseId?: string; reason?: string; by?: string } {
  return {
    ...(str(values, 'tool') && { toolUseId: str(values, 'tool')! }),
    ...(str(values, 'reason') && { reason: str(values, 'reason')! }),
    ...(str(values, 'by') && { by: str(values, 'by')! }),
  };
}

function decisionCommand(decision: 'approve' | 'deny'): Command {
  return {
    args: '<workflowId>',
    arity: [1, 1],
    takes: '<workflowId>',
    summary:
      decision === 'approve'
        ? 'Approve a tool call waiting in a run (the only one, or --tool <tool_use_id>); it runs at once.'
        : 'Deny a tool call waiting in a run; the model gets is_error with your reason and adapts.',
    options: {
      tool: { type: 'string', value: '<tool_use_id>', help: 'which call (may be left out when exactly one waits)' },
      reason: { type: 'string', value: '"…"', help: decision === 'deny' ? 'why (required: the model reads it)' : 'why' },
      by,
      json,
    },
    async run({ args: [id = ''], values, io, connect }) {
      if (decision === 'deny' && !str(values, 'reason')?.trim())
        throw new UsageError('deny needs --reason "…" (the model reads it)', { command: 'deny' });
      const runner = await connect();
      const r =
        decision === 'approve'
          ? await runner.approve(id, decisionOptions(values))
          : await runner.deny(id, { ...decisionOptions(values), reason: str(values, 'reason')! });
      if (flag(values, 'json')) io.out(JSON.stringify(r));
      else {
        io.out(
          `${decision === 'approve' ? 'approved' : 'denied'} ${plain(r.tool)} ${clip(JSON.stringify(r.input) ?? '', 160)} (${oneLine(r.toolUseId)}) ` +
            `in ${oneLine(id)}, after ${seconds(r.waitedMs)} of waiting`,
        );
      }
      return 0;
    },
  };
}

const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

/** The people commands, merged into the CLI's table. */
export const PEOPLE_COMMANDS: Record<string, Command> = {
  pending: {
    args: '',
    arity: [0, 0],
    takes: 'only options',
    summary: 'List the tool calls waiting for a decision, across runs, with tool and input.',
    options: { agent: { type: 'string', value: 'NAME', help: 'only runs of this agent' }, json },
    async run({ values, io, connect }) {
      const agent = str(values, 'agent');
      const calls = await (await connect()).pending(agent ? { agent } : {});
      if (flag(values, 'json')) io.out(JSON.stringify({ pending: calls }));
      else if (calls.length === 0) io.out('nothing waits for a decision');
      else {
        io.out(['WORKFLOW ID', 'AGENT', 'TOOL', 'TOOL_USE_ID', 'WAITING SINCE', 'INPUT', 'FOR'].join('\t'));
        for (const c of calls) {
          // A sub-agent's call: the run that asked the sub-agent (and waits for it) is named.
          const parent = c.parent ? `${c.parent.agent} ${c.parent.workflowId}` : '-';
          io.out(
            [c.workflowId, c.agent, c.tool, c.toolUseId, c.requestedAt, clip(JSON.stringify(c.input) ?? '', 200), parent]
              .map(oneLine)
              .join('\t'),
          );
        }
      }
      return 0;
    },
  },
  approve: decisionCommand('approve'),
  deny: decisionCommand('deny'),
  send: {
    args: '<workflowId> "<message>"',
    arity: [2, 2],
    takes: '<workflowId> "<message>"',
    summary: 'Send a session its next message and print the reply (--agent starts the session if none has this id).',
    options: {
      agent: { type: 'string', value: 'NAME', help: 'start a session of this agent if no run has the id yet' },
      'idle-timeout': { type: 'string', value: '24h', help: "a new session's idle timeout" },
      by,
      json,
    },
    async run({ args: [id = '', text = ''], values, io, connect }) {
      const problem = workflowIdProblem(id, '<workflowId>');
      if (problem) throw new UsageError(problem, { command: 'send' });
      if (!text.trim()) throw new UsageError('the message is empty: say something', { command: 'send' });
      const runner = await connect();
      const r = await runner.send(id, text, sendOptions(values));
      if (flag(values, 'json')) io.out(JSON.stringify(r));
      else {
        for (const l of labelled('assistant: ', r.reply)) io.out(l);
        io.out(
          `(exchange ${r.exchange} · stop reason ${r.stopReason ?? 'none'} · model calls ${r.turns} · tokens ${r.usage.input_tokens} in / ${r.usage.output_tokens} out)`,
        );
      }
      return 0;
    },
  },
  say: {
    args: '<workflowId> "<note>"',
    arity: [2, 2],
    takes: '<workflowId> "<note>"',
    summary: 'Steer a working run: a note delivered with its next model call (after the tool results of the current turn).',
    options: { by, json },
    async run({ args: [id = '', text = ''], values, io, connect }) {
      if (!text.trim()) throw new UsageError('the note is empty: say something', { command: 'say' });
      const queued = await (await connect()).say(id, text, str(values, 'by'));
      io.out(
        flag(values, 'json')
          ? JSON.stringify({ workflowId: id, queued })
          : `note for ${oneLine(id)}: delivered with its next model call (${queued} waiting)`,
      );
      return 0;
    },
  },
  chat: {
    args: '<agent>',
    arity: [0, 1],
    takes: '<agent> (or --id <sessionId> to resume one)',
    summary: 'Talk to an agent in a session: the reply streams in as it is written; Ctrl-C leaves (the session lives on), /end ends it.',
    options: {
      id: { type: 'string', value: '<sessionId>', help: 'the session to start or resume (default <agent>-chat-<random>)' },
      'idle-timeout': { type: 'string', value: '24h', help: "a new session's idle timeout" },
      by,
    },
    async run({ args: [agent], values, io, connect }) {
      const id = str(values, 'id') ?? (agent ? `${agent}-chat-${Math.random().toString(36).slice(2, 10)}` : undefined);
      if (!id) throw new UsageError('chat takes <agent>, or --id <sessionId> to resume a session', { command: 'chat' });
      const problem = workflowIdProblem(id, '--id');
      if (problem) throw new UsageError(problem, { command: 'chat' });
      return chat(await connect(), id, agent, values, io);
    },
  },
};

function sendOptions(values: Values): { agent?: string; by?: string; idleTimeout?: string } {
  return {
    ...(str(values, 'agent') && { agent: str(values, 'agent')! }),
    ...(str(values, 'by') && { by: str(values, 'by')! }),
    ...(str(values, 'idle-timeout') && { idleTimeout: str(values, 'idle-timeout')! }),
  };
}

/** The interactive session: one line in, the reply streamed out, until /end, Ctrl-C or end of input. */
async function chat(runner: AgentRunner, id: string, agent: string | undefined, values: Values, io: CliIO): Promise<number> {
  const existing = await runner.state(id).catch(() => undefined);
  if (existing?.phase === 'done') {
    io.err(
      `error: session ${oneLine(id)} has ended (stop reason ${oneLine(existing.stopReason ?? 'none')}): ` +
        `start a new one with agent-runner chat ${oneLine(existing.agent)}`,
    );
    return 1;
  }
  if (existing)
    io.out(`resuming session ${oneLine(id)} of agent "${oneLine(existing.agent)}" (${existing.session?.exchanges ?? 0} exchanges so far)`);
  else if (!agent) throw new UsageError(`no session with id "${id}": give an <agent> to start one`, { command: 'chat' });
  else io.out(`session ${oneLine(id)} with agent "${oneLine(agent)}": type a message; /end ends the session; Ctrl-C leaves it running`);
  const rl = createInterface({ input: process.stdin, terminal: false });
  // Ctrl-C leaves (the session lives on). readline emits its own 'SIGINT' only in terminal mode:
  // with a pipe or a plain terminal the signal reaches the process, so both are handled.
  let left = false;
  let leave!: () => void;
  const interrupted = new Promise<'left'>((resolve) => (leave = () => resolve('left')));
  const onSigint = () => {
    left = true;
    rl.close();
    leave();
  };
  rl.on('SIGINT', onSigint);
  process.once('SIGINT', onSigint);
  try {
    for await (const line of rl) {
      const text = line.trim();
      if (!text) continue;
      if (text === '/end') {
        await runner.endSession(id, str(values, 'by'));
        io.out(`session ${oneLine(id)} ended`);
        return 0;
      }
      const live = streamText(runner, id, io);
      try {
        const sending = runner.send(id, text, existing ? sendOptions({ ...values, agent: undefined }) : sendOptions({ ...values, agent }));
        sending.catch(() => undefined); // left before the reply: the session answers it anyway
        const r = await Promise.race([sending, interrupted]);
        await live.stop();
        if (r === 'left') break;
        const rest = r.reply.slice(live.printed());
        if (rest) io.out(plain(rest));
        else io.out('');
      } catch (e) {
        await live.stop();
        throw e;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    rl.close();
  }
  io.out(`${left ? '\n' : ''}left session ${oneLine(id)}; it lives on: agent-runner chat --id ${oneLine(id)}`);
  return 0;
}

/**
 * Print the assistant's text as the model writes it, from the model call's heartbeat details
 * (a bounded tail of the text so far): nothing but Temporal is needed.
 */
function streamText(runner: AgentRunner, id: string, io: CliIO): { printed(): number; stop(): Promise<void> } {
  let printed = 0;
  let seenCall = '';
  let running = true;
  const write = (s: string) => (io.progress ? process.stdout.write(plain(s)) : undefined);
  const loop = (async () => {
    const handle = runner.client.workflow.getHandle(id);
    while (running) {
      try {
        const d = await handle.describe();
        const call = (d.raw.pendingActivities ?? []).find((a) => a.activityType?.name === ActivityNames.callModel);
        if (call) {
          const key = `${call.activityId}/${call.attempt}`;
          if (key !== seenCall) {
            seenCall = key;
            printed = 0; // a new call or a retry: its text starts over
          }
          const [p] = (await decodePayloads(runner.client.options.loadedDataConverter, call.heartbeatDetails)) as [
            ModelProgress | undefined,
          ];
          const total = p?.textChars ?? 0;
          if (p?.text && total > printed) {
            const fresh = p.text.slice(Math.max(0, p.text.length - (total - printed)));
            write(fresh);
            printed = total;
          }
        }
      } catch {
        // The run may be between calls; look again.
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return {
    printed: () => (io.progress ? printed : 0),
    async stop() {
      running = false;
      await loop;
    },
  };
}
