/** Run input checks shared by the client (nothing started) and the workflow (run fails at once). */
import { describe, expect, it } from 'vitest';
import { runInputProblem } from '../../contract/run-input.js';

describe('runInputProblem', () => {
  it('accepts a prompt or a conversation', () => {
    expect(runInputProblem({ agent: 'triage', prompt: 'hi' })).toBeNull();
    expect(runInputProblem({ agent: 'triage', messages: [{ role: 'user', content: 'hi' }] })).toBeNull();
  });
  it.each([
    [null, 'run input must be an object'],
    [{ prompt: 'hi' }, 'agent name is required'],
    [{ agent: 'a', prompt: '' }, 'prompt is empty'],
    [{ agent: 'a', prompt: '\n ' }, 'prompt is empty'],
    [{ agent: 'a' }, 'give exactly one of prompt or messages'],
    [{ agent: 'a', prompt: 'x', messages: [] }, 'give exactly one of prompt or messages'],
    [{ agent: 'a', messages: [] }, 'messages must be a non-empty array'],
    [{ agent: 'a', messages: [{ role: 'assistant', content: 'x' }] }, 'the first message must have role "user"'],
    [{ agent: 'a', messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role must be "user" or "assistant"'],
    [{ agent: 'a', prompt: 'x', overrides: [] }, 'overrides must be an object'],
  ])('%j', (input, problem) => {
    expect(runInputProblem(input)).toContain(problem);
  });
});
