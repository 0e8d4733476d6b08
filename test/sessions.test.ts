/**
 * Conversations, steering and live text: a session answers message after message (the first one
 * starting it), queues what arrives while it works, lives across executions for hundreds of
 * exchanges, and ends on `end` or idle; `say` steers a working run; `watch` shows the text as it
 * is written; `chat` drives a session from a terminal.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageParam } from '../contract/messages.js';
import { message, text, textBlock, toolUse } from '../devtools/fake-api/replies.js';
import type { FakeReply, RecordedRequest } from '../devtools/fake-api/server.js';
import { BIN, cliEnv, runCli, runCliWith } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

/** The last user message's text (its text blocks), or ''. */
function lastUserText(messages: readonly MessageParam[]): string {
  const m = [...messages].reverse().find((x) => x.role === 'user');
  if (!m) return '';
  return typeof m.content === 'string' ? m.content : m.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join(' ');
}

/** A model that answers "You said: …"; "slow …" streams for a while; "echo …" calls the echo tool first. */
function brain(req: RecordedRequest): FakeReply {
  const said = lastUserText(req.body.messages);
  const last = req.body.messages.at(-1);
  if (said.startsWith('echo ') && last?.role === 'user' && !JSON.stringify(last.content).includes('tool_result')) {
    return message([toolUse('echo', { text: said.slice(5), delay_ms: 1500 })], 'tool_use');
  }
  const reply = text(`You said: ${said}`);
  return said.startsWith('slow')
    ? {
        ...reply,
        content: [textBlock(`Thinking it over slowly. ${'Word by word, the answer takes shape. '.repeat(8)}You said: ${said}`)],
        chunks: 40,
        chunkDelayMs: 100,
      }
    : reply;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ fake: { brain } });
});
afterAll(async () => h?.close());

const id = (tag: string) => `session-${tag}-${Date.now()}`;

describe('sessions', () => {
  it('three exchanges, the first starting the session; each send returns its reply, usage and stop reason; end completes it', async () => {
    const sid = id('three');
    const first = await h.runner.send(sid, 'hello', { agent: 'toolbox', by: 'ann' });
    expect(first).toMatchObject({ exchange: 1, reply: 'You said: hello', stopReason: 'end_turn', turns: 1 });
    expect(first.usage.output_tokens).toBeGreaterThan(0);
    expect((await h.runner.send(sid, 'how are you?')).reply).toBe('You said: how are you?');
    const third = await runCli(cliEnv(h), 'send', sid, 'bye', '--json');
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout)).toMatchObject({ exchange: 3, reply: 'You said: bye' });
    const state = await h.runner.state(sid);
    expect(state).toMatchObject({ phase: 'awaiting_message', session: { exchanges: 3, queuedMessages: 0 } });
    await h.runner.endSession(sid, 'ann');
    const r = await (await h.runner.get(sid)).result();
    expect(r).toMatchObject({ status: 'completed', stopReason: 'session_ended', turns: 3 });
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    await expect(h.runner.send(sid, 'again?')).rejects.toThrow(/has ended/);
  });

  it('messages sent while the agent works queue in order', async () => {
    const sid = id('queue');
    await h.runner.send(sid, 'hi', { agent: 'toolbox' });
    // Sent one after the other while the first is still being answered (each accepted before the next is sent).
    const first = h.runner.send(sid, 'slow one');
    const deadline = Date.now() + 10_000;
    while ((await h.runner.state(sid)).phase !== 'calling_model' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const second = h.runner.send(sid, 'two');
    while ((await h.runner.state(sid)).session?.queuedMessages !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const third = h.runner.send(sid, 'three');
    const [a, b, c] = await Promise.all([first, second, third]);
    expect([a.exchange, b.exchange, c.exchange]).toEqual([2, 3, 4]);
    expect([a.reply.endsWith('You said: slow one'), b.reply, c.reply]).toEqual([true, 'You said: two', 'You said: three']);
    await h.runner.endSession(sid);
  });

  it('two hundred exchanges across executions (continue-as-new between exchanges)', async () => {
    const sid = id('long');
    for (let i = 1; i <= 200; i++) {
      const r = await h.runner.send(sid, `message ${i}`, i === 1 ? { agent: 'gatekeeper' } : {});
      expect(r.exchange).toBe(i);
      expect(r.reply).toBe(`You said: message ${i}`);
    }
    const state = await h.runner.state(sid);
    expect(state.session?.exchanges).toBe(200);
    expect(state.execution).toBeGreaterThan(1);
    await h.runner.endSession(sid);
    const r = await (await h.runner.get(sid)).result();
    expect(r).toMatchObject({ status: 'completed', stopReason: 'session_ended', turns: 200 });
    expect(r.executions).toBe(state.execution);
    expect(lastUserText(r.messages)).toBe('message 200');
  }, 300_000);
});

describe('steering and live text', () => {
  it("say: a note reaches the next model call after the current turn's tool results, and stays in the transcript", async () => {
    const sid = id('steer');
    await h.runner.send(sid, 'hi', { agent: 'toolbox' });
    const working = h.runner.send(sid, 'echo hello');
    const deadline = Date.now() + 10_000;
    while ((await h.runner.state(sid)).phase !== 'running_tools' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const said = await runCli(cliEnv(h), 'say', sid, 'Please answer in French.', '--by', 'supervisor');
    expect(said.code).toBe(0);
    expect(said.stdout).toContain('delivered with its next model call (1 waiting)');
    await working;
    const request = h.fake.requests.at(-1)!.body;
    const last = request.messages.at(-1)!;
    expect(Array.isArray(last.content) && last.content.map((b) => b.type)).toEqual(['tool_result', 'text']);
    expect(JSON.stringify(last.content)).toContain('Please answer in French.');
    const story = await runCli(cliEnv(h), 'show', sid);
    expect(story.stdout).toContain('note (supervisor): Please answer in French.');
    await h.runner.endSession(sid);
  });

  it('say on a one-shot run: the note follows the tool result in the next model call and is in result().messages', async () => {
    const prompt = `echo one-shot ${Date.now()}`;
    const run = await h.runner.start('toolbox', prompt);
    const deadline = Date.now() + 10_000;
    while ((await h.runner.state(run.workflowId)).phase !== 'running_tools' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect((await h.runner.state(run.workflowId)).phase).toBe('running_tools'); // the echo takes 1.5 s
    expect(await h.runner.say(run.workflowId, 'Keep it short.', 'supervisor')).toBe(1);
    const r = await run.result();
    expect(r).toMatchObject({ status: 'completed', finalText: 'You said: Keep it short.' });
    // This run's requests: the first asked for the tool, the second carries its result, then the note.
    const mine = h.fake.requests.filter((q) => JSON.stringify(q.body.messages[0]).includes(prompt));
    expect(mine).toHaveLength(2);
    const last = mine[1]!.body.messages.at(-1)!;
    expect(last.role).toBe('user');
    expect(Array.isArray(last.content) && last.content.map((b) => b.type)).toEqual(['tool_result', 'text']);
    expect(Array.isArray(last.content) && last.content[1]).toMatchObject({ type: 'text', text: expect.stringContaining('Keep it short.') });
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    const kept = r.messages[2]!.content;
    expect(Array.isArray(kept) && kept.map((b) => (b.type === 'text' ? b.text : b.type))).toEqual(['tool_result', 'Keep it short.']);
  });

  it('watch shows the text as the model writes it', async () => {
    const sid = id('live');
    await h.runner.send(sid, 'hi', { agent: 'toolbox' });
    const watching = spawn(process.execPath, [BIN, 'watch', sid], { env: cliEnv(h), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watching.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await h.runner.send(sid, 'slow please');
    await h.runner.endSession(sid);
    await new Promise((r) => watching.once('exit', r));
    // Progress lines quote the text so far, before the turn's own line prints it whole.
    const live = out.split('\n').filter((l) => l.startsWith('… model streaming') && l.includes('"'));
    expect(live.length).toBeGreaterThan(0);
    expect(live.some((l) => /word by word|the answer takes shape/i.test(l))).toBe(true);
  });

  it('chat: lines in, replies out; /end ends the session', async () => {
    const sid = id('chat');
    const child = spawn(process.execPath, [BIN, 'chat', 'toolbox', '--id', sid], { env: cliEnv(h), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.write('hello there\n');
    const deadline = Date.now() + 15_000;
    while (!out.includes('You said: hello there') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.stdin.write('/end\n');
    const code = await new Promise((r) => child.once('exit', r));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('You said: hello there');
    expect(out).toContain(`session ${sid} ended`);
    const r = await (await h.runner.get(sid)).result();
    expect(r).toMatchObject({ status: 'completed', stopReason: 'session_ended' });
  });

  it('chat: Ctrl-C leaves the session running (exit 0, even with stdin a pipe); chat --id resumes it; an ended one is refused in one line', async () => {
    const sid = id('leave');
    const child = spawn(process.execPath, [BIN, 'chat', 'toolbox', '--id', sid], { env: cliEnv(h), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (code, signal) => r([code, signal])));
    child.stdin.write('hello there\n');
    const deadline = Date.now() + 15_000;
    while (!out.includes('You said: hello there') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('You said: hello there');
    child.kill('SIGINT'); // what Ctrl-C sends; stdin stays open, as a terminal's would
    expect(await exited).toEqual([0, null]);
    expect(err).toBe('');
    expect(out).toContain(`left session ${sid}; it lives on: agent-runner chat --id ${sid}`);
    expect(await h.runner.state(sid)).toMatchObject({ phase: 'awaiting_message', session: { exchanges: 1 } });

    const resumed = await runCliWith(cliEnv(h), { stdin: 'and again\n/end\n' }, 'chat', '--id', sid);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.split('\n')).toEqual([
      `resuming session ${sid} of agent "toolbox" (1 exchanges so far)`,
      'You said: and again',
      `session ${sid} ended`,
      '',
    ]);
    const r = await (await h.runner.get(sid)).result();
    expect(r).toMatchObject({ status: 'completed', stopReason: 'session_ended', turns: 2 });
    expect(lastUserText(r.messages)).toBe('and again');

    const ended = await runCliWith(cliEnv(h), { stdin: 'anyone there?\n' }, 'chat', '--id', sid);
    expect(ended.code).toBe(1);
    expect(ended.stdout).toBe('');
    expect(ended.stderr).toBe(
      `error: session ${sid} has ended (stop reason session_ended): start a new one with agent-runner chat toolbox\n`,
    );
  });
});
