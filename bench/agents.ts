/**
 * The agents bench workers serve (AGENT_RUNNER_AGENTS points here): `toolbox` with an `echo`
 * tool (the per-turn overhead and concurrency workloads), `longrun` with a `blob` tool (the
 * 1,000-turn run), and the triage agent. The bench's own copies, so it never imports test code.
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { defineAgent, defineTool, type AgentDefinition } from '../agents/define.js';
import { triageAgent } from '../agents/triage/agent.js';
import { fastModelCall, longrunAgent } from '../devtools/agents.js';

export { longrunAgent };

/** Echoes its text after `delay_ms` (0 by default: the tool costs nothing, Temporal's share shows). */
const echo = defineTool({
  name: 'echo',
  description: 'Echo the text back after a delay.',
  inputSchema: z.object({ text: z.string(), delay_ms: z.number().int().min(0).max(60_000).default(0) }),
  run: async ({ text, delay_ms }, ctx) => {
    // bench/local-activities.ts counts executions (re-runs after a crash) from this log.
    if (process.env.BENCH_TOOL_LOG)
      appendFileSync(process.env.BENCH_TOOL_LOG, `${ctx.workflowId} ${ctx.toolUseId} ${ctx.attempt} ${process.pid}\n`);
    if (delay_ms > 0) await new Promise((resolve) => setTimeout(resolve, delay_ms)).then(() => ctx.signal.throwIfAborted());
    return `echo: ${text}`;
  },
});

/** One `echo` per turn. */
export const toolboxAgent = defineAgent({
  name: 'toolbox',
  model: 'claude-test-model',
  max_tokens: 512,
  system: 'You are a test agent.',
  tools: [echo],
  maxTurns: 10,
  modelCall: fastModelCall,
});

/** The same agent with its tools as local activities (bench:levers). */
export const toolboxLocalToolsAgent = defineAgent({ ...toolboxAgent, name: 'toolbox-local-tools', localActivities: { tools: true } });
/** The same agent with the model call and its tools as local activities (bench:levers). */
export const toolboxLocalAgent = defineAgent({ ...toolboxAgent, name: 'toolbox-local', localActivities: { tools: true, model: true } });

/**
 * The same agent with the project's default model-call policy (contract/config.ts
 * DEFAULT_MODEL_POLICY: 5 s heartbeat timeout, first retry after 1 s): crash recovery "with the
 * defaults" (bench/crash-recovery.ts).
 */
export const toolboxDefaultsAgent = defineAgent({ ...toolboxAgent, name: 'toolbox-defaults', modelCall: {} });

/** The same agent without runner-placed prompt-cache breakpoints (what prompt caching costs the bench). */
export const toolboxNoCacheAgent = defineAgent({ ...toolboxAgent, name: 'toolbox-no-cache', promptCaching: false });

/** The catalog bench worker processes serve. */
export const agents: AgentDefinition[] = [
  toolboxAgent,
  toolboxLocalToolsAgent,
  toolboxLocalAgent,
  toolboxDefaultsAgent,
  toolboxNoCacheAgent,
  longrunAgent,
  triageAgent,
];
