/** Entry point of the workflow bundle: every workflow type the workers register. */
export { agentRun } from './agent-run.js';
