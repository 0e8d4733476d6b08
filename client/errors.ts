/** The client library's error: a one-line message that says what to do. */
export class RunnerError extends Error {
  override name = 'RunnerError';
}
