/**
 * The activities as the workflow schedules them. Names and signatures come from the contract
 * (`contract/activities.ts`); the implementations live in `activities/` and never enter the
 * workflow bundle.
 */
import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { AgentActivities } from '../contract/activities.js';
import { Failures } from '../contract/failures.js';

/** Resolution is quick and local: a short timeout, a few retries, never for a definitive "no". */
const resolveOptions = {
  startToCloseTimeout: '30s',
  retry: {
    maximumAttempts: 5,
    maximumInterval: '10s',
    nonRetryableErrorTypes: [Failures.unknownAgent.type, Failures.invalidRunInput.type],
  },
  summary: 'resolve agent',
};
export const { resolveAgent } = proxyActivities<AgentActivities>(resolveOptions);
/**
 * The same as a local activity: it only reads the worker's agent catalog, so it needs no round
 * trip through the server (one activity task and one workflow task fewer per run).
 */
export const { resolveAgent: resolveAgentLocally } = proxyLocalActivities<AgentActivities>(resolveOptions);

/**
 * The model call and the tools. Timeouts and retry policies are set per call
 * (`executeWithOptions`) from the run's config. TRY_CANCEL: a cancelled run closes at once; each
 * activity learns of it on its next heartbeat (its AbortSignal fires, the HTTP stream is aborted).
 */
export const { callModel, runTool } = proxyActivities<AgentActivities>({
  startToCloseTimeout: '10m',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
});

/** A tool's per-call approval check: quick, local to the worker's agent code, recorded in history. */
export const { needsApproval } = proxyActivities<AgentActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, maximumInterval: '5s' },
  cancellationType: ActivityCancellationType.TRY_CANCEL,
});

/**
 * The same two as local activities (`RunConfig.local`): run by this worker within the workflow
 * task, results recorded as markers when the task completes. Options are set per call, as above;
 * a cancelled local activity is cancelled in-process at once (no heartbeat needed).
 */
export const { callModel: callModelLocally, runTool: runToolLocally } = proxyLocalActivities<AgentActivities>({
  startToCloseTimeout: '10m',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
});
