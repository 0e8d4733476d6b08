/**
 * Which agents the workers serve: the `agents` export of the module named by
 * AGENT_RUNNER_AGENTS, or of the project's agents/index.ts. The worker serves them; the CLI
 * checks agent names against them so that an unknown agent starts nothing.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentDefinition } from './define.js';

/** Load the agent catalog; throws one clear line if the module is missing or has no `agents`. */
export async function loadAgents(env: NodeJS.ProcessEnv = process.env): Promise<AgentDefinition[]> {
  const path = env.AGENT_RUNNER_AGENTS;
  let mod: { agents?: unknown };
  try {
    mod = (await import(path ? pathToFileURL(resolve(path)).href : './index.js')) as { agents?: unknown };
  } catch (e) {
    throw new Error(`cannot load the agents module ${path ?? 'agents/index.ts'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(mod.agents)) throw new Error(`AGENT_RUNNER_AGENTS=${path} does not export an \`agents\` array`);
  return mod.agents as AgentDefinition[];
}
