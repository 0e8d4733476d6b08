/**
 * The `agentRun` workflow's public surface: its type name, signals and queries. Defined once here
 * and used by the workflow, the client library, the CLI and any other client.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunState } from './run.js';

/** Name of the workflow type, as registered with Temporal. */
export const AGENT_WORKFLOW_TYPE = 'agentRun';

/** Argument of the `cancel` signal. Anything else (a number, `{}`, nothing) counts as no reason. */
export interface CancelArgs {
  reason?: string;
}

/** Ask a run to stop: the in-flight model call is aborted, in-flight tools get their AbortSignal. */
export const cancelSignal = defineSignal<[CancelArgs?]>('cancel');

/** The live state of a run. */
export const stateQuery = defineQuery<RunState>('state');
