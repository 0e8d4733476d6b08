/**
 * The workflow id to replay a committed golden history under. A run that started sub-agents named
 * their child workflows `<its id>/<tool_use id>`, so it must replay under its own id (recovered from
 * the first child's); any other golden replays under its file name.
 */
export function goldenWorkflowId(history: unknown, file: string): string {
  const events = (history as { events?: { startChildWorkflowExecutionInitiatedEventAttributes?: { workflowId?: string } }[] }).events;
  const child = events?.find(
    (e) => e.startChildWorkflowExecutionInitiatedEventAttributes,
  )?.startChildWorkflowExecutionInitiatedEventAttributes;
  const id = child?.workflowId;
  return id && id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : file;
}
