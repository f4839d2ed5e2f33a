package dev.kiln.invoke;

import dev.kiln.runtimeapi.ResponseStream;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A synchronous invocation answered as a stream ({@link Invocations#stream}): the response's chunks
 * in {@link #body}, readable while the function still runs, and how it ended in {@code
 * body().end()} ({@link ResponseStream.End#errorType} is the function error, if any, and {@link
 * ResponseStream.End#errorBody} its document). {@link #logTail} completes once the invocation is
 * over, with the last 4 KB of its log when the caller asked for it.
 */
public record InvocationStream(
    String requestId,
    String executedVersion,
    ResponseStream body,
    CompletableFuture<Optional<String>> logTail) {

  /** A buffered answer as a stream: its payload as one chunk, or its function error. */
  public static InvocationStream buffered(InvocationResult result) {
    ResponseStream body =
        switch (result) {
          case InvocationResult.Success s -> ResponseStream.of("application/json", s.payload());
          case InvocationResult.FunctionError f ->
              ResponseStream.failed("application/json", f.errorType(), f.payload());
        };
    return new InvocationStream(
        result.requestId(),
        result.executedVersion(),
        body,
        CompletableFuture.completedFuture(result.logTail()));
  }
}
