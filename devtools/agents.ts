/**
 * Example agents shared by the benchmark and the tests: `longrun`, one `blob` tool call per turn,
 * with small limits so continue-as-new and the context policy happen within a few hundred turns.
 */
import { z } from 'zod';
import { defineAgent, defineTool } from '../agents/define.js';

/** Short model-call timeouts and retry intervals, so faults resolve quickly. */
export const fastModelCall = {
  heartbeatTimeout: '3s',
  stallTimeout: '3s',
  initialInterval: '100ms',
  maximumInterval: '1s',
  maximumAttempts: 5,
} as const;

/** Returns `bytes` of text: a constant-size tool output, turn after turn. */
export const blob = defineTool({
  name: 'blob',
  description: 'Return a large text.',
  inputSchema: z.object({ bytes: z.number().int().min(1).max(1_000_000), seed: z.number().int() }),
  run: ({ bytes, seed }) => {
    const line = `record ${seed}: ${'lorem ipsum dolor sit amet '.repeat(3)}\n`;
    return line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
  },
});

/** A long run with small limits: continue-as-new and the context policy within a few hundred turns. */
export const longrunAgent = defineAgent({
  name: 'longrun',
  model: 'claude-test-model',
  max_tokens: 256,
  tools: [blob],
  maxTurns: 1000,
  modelCall: fastModelCall,
  limits: { toolResultMaxBytes: 20 * 1024, conversationMaxBytes: 300 * 1024, continueAsNewAtBytes: 512 * 1024 },
});
