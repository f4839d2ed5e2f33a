package dev.kiln.runtimeapi;

/** What a runtime made of an event: the closed set of answers the Runtime API can carry. */
public sealed interface RuntimeAnswer {

  /** {@code POST /invocation/{id}/response}. */
  record Response(byte[] body) implements RuntimeAnswer {}

  /**
   * {@code POST /invocation/{id}/response} in streaming mode: the body goes on arriving in {@code
   * stream} after this answer is given, and the stream's end tells how it ended.
   */
  record Streaming(ResponseStream stream) implements RuntimeAnswer {}

  /**
   * {@code POST /invocation/{id}/error}: the handler failed; {@code body} is its error document.
   */
  record FunctionError(String errorType, byte[] body) implements RuntimeAnswer {}

  /** The response was over the limit; the runtime was told so with a 413. */
  record ResponseTooLarge(long bytes) implements RuntimeAnswer {}

  /** {@code POST /init/error}: the runtime could not start the function at all. */
  record InitError(String errorType, byte[] body) implements RuntimeAnswer {}
}
