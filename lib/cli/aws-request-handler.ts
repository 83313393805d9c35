/** kubectl's choice is none; 10 s is long for one read of a healthy API server, short for a person waiting. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The request handler options of every AWS client of the CLI: a hanging endpoint fails the
 * call (then the SDK's retries apply) instead of hanging the command. Without
 * throwOnRequestTimeout a breached requestTimeout only logs a warning (@smithy/types 4.20.0
 * NodeHttpHandlerOptions).
 */
export const AWS_REQUEST_HANDLER = {
  connectionTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
  requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
  throwOnRequestTimeout: true,
} as const;
