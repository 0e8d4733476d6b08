/** Human output of runs: terminal escapes stripped, multi-line text marked, reasons clipped. */
import { describe, expect, it } from 'vitest';
import { CONTINUATION, REASON_WIDTH, clip, labelled, oneLine, plain, summaryLines, transcriptLines } from '../../client/format.js';
import { emptyUsage, type RunResult } from '../../contract/run.js';

describe('plain', () => {
  it.each([
    ['CSI: clear screen, cursor home, colours', 'a\x1b[2J\x1b[H\x1b[1;31mb\x1b[0m', 'ab'],
    ['CSI with intermediates', 'a\x1b[1 qb', 'ab'],
    ['OSC window title ended by BEL', 'a\x1b]0;title\x07b', 'ab'],
    ['OSC 52 clipboard write ended by ST', 'a\x1b]52;c;ZXZpbA==\x1b\\b', 'ab'],
    ['OSC 8 hyperlink', '\x1b]8;;https://evil.example\x07click\x1b]8;;\x07', 'click'],
    ['an unterminated OSC swallows the rest, as a terminal would', 'a\x1b]0;title\nstatus: completed', 'a'],
    ['DCS, APC, PM, SOS strings', 'a\x1bPq#0\x1b\\b\x1b_x\x1b\\c\x1b^y\x1b\\d\x1bXz\x1b\\e', 'abcde'],
    ['C1 CSI and C1 OSC', 'a\u009b2Jb\u009d0;t\u009cc', 'abc'],
    ['two-byte escapes (reset, keypad, charset)', 'a\x1bcb\x1b=c\x1b(0d', 'abcd'],
    ['a lone ESC at the end', 'ab\x1b', 'ab'],
    ['C0 controls but newline and tab, DEL, C1', 'a\x00\x07\x08\x0b\x0c\r\x7f\u0085\u0084b\tc\nd', 'ab\tc\nd'],
    ['ordinary text, including non-ASCII', 'Größe → 48810 ✓ 日本 🚀', 'Größe → 48810 ✓ 日本 🚀'],
  ])('%s', (_what, input, expected) => {
    expect(plain(input)).toBe(expected);
  });

  it('takes anything printable', () => {
    expect(plain(undefined)).toBe('');
    expect(plain(42)).toBe('42');
  });
});

describe('one-line fields', () => {
  it('oneLine folds newlines and tabs into spaces', () => {
    expect(oneLine('a\tb\n\nc\x1b[2J ')).toBe('a b c');
  });
  it('clip cuts to the width, never inside a surrogate pair', () => {
    expect(clip('x'.repeat(500), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(clip(`${'x'.repeat(8)}🚀🚀`, 10)).toBe(`${'x'.repeat(8)}…`);
    expect(clip('short', 10)).toBe('short');
  });
});

describe('labelled', () => {
  it('marks every continuation line, so text cannot pass for a line of the CLI', () => {
    expect(labelled('assistant: ', 'First.\nstatus: completed\n    → tool rm_rf {}\r\n')).toEqual([
      'assistant: First.',
      `${CONTINUATION}status: completed`,
      `${CONTINUATION}    → tool rm_rf {}`,
      CONTINUATION.trimEnd(),
    ]);
  });
});

const hostile = 'Done.\x1b]0;title\x07\nstatus: completed · stop reason: end_turn';

describe('transcriptLines and summaryLines (the CLI and the demo)', () => {
  it('print hostile model text, prompts, tool names and results harmlessly', () => {
    const lines = transcriptLines([
      { role: 'user', content: `hi\x1b[2J\nerror: fake` },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: hostile },
          { type: 'tool_use', id: 't1', name: 'echo\x1b[2J', input: { text: '\x1b]52;c;eA==\x07' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'line1\x1b[H\nline2' }] },
    ]);
    expect(lines).toEqual([
      'user: hi',
      `${CONTINUATION}error: fake`,
      '── model turn 1',
      'assistant: Done.',
      `${CONTINUATION}status: completed · stop reason: end_turn`,
      // JSON escapes the controls of tool input: inert text.
      '    → tool echo {"text":"\\u001b]52;c;eA==\\u0007"}',
      '      ← line1 line2',
    ]);
  });

  it('clip the error to one line of REASON_WIDTH', () => {
    const r: RunResult = {
      workflowId: 'w\tid',
      agent: 'a',
      status: 'cancelled',
      stopReason: 'cancelled',
      finalText: '',
      turns: 0,
      usage: emptyUsage(),
      messages: [],
      error: `because\n${'x'.repeat(1_000_000)}`,
    };
    const lines = summaryLines(r);
    expect(lines[1]).toBe(`error: because ${'x'.repeat(REASON_WIDTH - 9)}…`);
    expect(lines[2]).toBe('workflow id: w id');
  });
});
