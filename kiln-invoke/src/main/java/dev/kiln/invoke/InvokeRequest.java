package dev.kiln.invoke;

import java.util.Optional;

/**
 * A synchronous invocation as the invoker receives it.
 *
 * @param invokedArn the ARN the caller used, qualified as they qualified it
 * @param clientContext the decoded client context JSON, passed to the runtime
 * @param tailLog whether the caller wants the end of the invocation's log back
 * @param requestId the request id to run under: an asynchronous event keeps its id across retries,
 *     as on Lambda; a new one is made when empty
 * @param traceHeader the caller's {@code X-Amzn-Trace-Id}, whose trace the invocation joins (see
 *     {@link TraceHeader})
 * @param queuedSince when an asynchronous event was accepted; empty for a synchronous call
 */
public record InvokeRequest(
    byte[] payload,
    String invokedArn,
    Optional<String> clientContext,
    boolean tailLog,
    Optional<String> requestId,
    Optional<String> traceHeader,
    Optional<java.time.Instant> queuedSince) {

  public InvokeRequest(
      byte[] payload, String invokedArn, Optional<String> clientContext, boolean tailLog) {
    this(
        payload,
        invokedArn,
        clientContext,
        tailLog,
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }
}
