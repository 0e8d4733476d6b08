/**
 * Signals and queries of the `agentRun` workflow, shared by the workflow and its clients.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunState } from './types.js';

/** Ask a run to stop: the in-flight model call is aborted, in-flight tools get their AbortSignal. */
export const cancelSignal = defineSignal<[{ reason?: string }?]>('cancel');

/** The live state of a run. */
export const stateQuery = defineQuery<RunState>('state');
