package dev.kiln.invoke;

import dev.kiln.model.FunctionRef;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One invocation as a caller asks for it, whoever the caller is: the Invoke API, the asynchronous
 * dispatcher, or a trigger. Built with {@link #sync} or {@link #async} and the {@code with...}
 * methods, never by position:
 *
 * <pre>{@code
 * InvokeRequest.sync(ref, payload).withTailLog(true).withTraceHeader(header)
 * }</pre>
 *
 * @param function the function as the caller named it; its qualifier (a version, an alias, {@code
 *     $LATEST} or none) is both what runs and what the invoked ARN shows
 * @param payload the event, JSON
 * @param origin where the invocation came from: a caller waiting for the answer, or a queued event
 * @param clientContext the decoded client context JSON, passed to the runtime
 * @param tailLog whether the caller wants the end of the invocation's log back
 * @param requestId the request id to run under: an asynchronous event keeps its id across retries,
 *     as on Lambda; a new one is made when empty
 * @param traceHeader the caller's {@code X-Amzn-Trace-Id}, whose trace the invocation joins (see
 *     {@link TraceHeader})
 */
public record InvokeRequest(
    FunctionRef function,
    byte[] payload,
    Origin origin,
    Optional<String> clientContext,
    boolean tailLog,
    Optional<String> requestId,
    Optional<String> traceHeader) {

  /** Where an invocation came from. */
  public sealed interface Origin {}

  /** A caller waiting for the answer. */
  public record Sync() implements Origin {}

  /** An event accepted into the durable queue at {@code received}, delivered now. */
  public record Async(Instant received) implements Origin {
    public Async {
      Objects.requireNonNull(received, "received");
    }
  }

  public InvokeRequest {
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(clientContext, "clientContext");
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(traceHeader, "traceHeader");
  }

  /** A synchronous invocation of {@code function}: the caller waits for its answer. */
  public static InvokeRequest sync(FunctionRef function, byte[] payload) {
    return new InvokeRequest(
        function, payload, new Sync(), Optional.empty(), false, Optional.empty(), Optional.empty());
  }

  /** {@link #sync} with a JSON text for a payload. */
  public static InvokeRequest sync(FunctionRef function, String json) {
    return sync(function, json.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The delivery of a queued event: it runs under the id it was accepted with, whatever the
   * attempt.
   */
  public static InvokeRequest async(
      FunctionRef function, byte[] payload, String requestId, Instant received) {
    return new InvokeRequest(
        function,
        payload,
        new Async(received),
        Optional.empty(),
        false,
        Optional.of(requestId),
        Optional.empty());
  }

  public InvokeRequest withClientContext(Optional<String> json) {
    return new InvokeRequest(function, payload, origin, json, tailLog, requestId, traceHeader);
  }

  public InvokeRequest withTailLog(boolean tail) {
    return new InvokeRequest(
        function, payload, origin, clientContext, tail, requestId, traceHeader);
  }

  public InvokeRequest withTraceHeader(Optional<String> header) {
    return new InvokeRequest(function, payload, origin, clientContext, tailLog, requestId, header);
  }

  /** When a queued event was accepted; empty for a caller who waits. */
  public Optional<Instant> queuedSince() {
    return origin instanceof Async a ? Optional.of(a.received()) : Optional.empty();
  }
}
